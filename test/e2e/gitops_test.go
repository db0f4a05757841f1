package e2e

import (
	"context"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/testenv"
)

// A GitOps tool (Argo CD, Flux) applies a Server with server-side apply, as its own field
// manager, again and again. Between two syncs, people act on the server imperatively, through
// REST and with ServerActions. The next sync must find nothing to do: no field of the spec
// owned by anyone else, no conflict, and no action started to put the server back.
var _ = Describe("A server managed by a GitOps tool", Ordered, func() {
	const manager = "argocd"
	var (
		argo     client.Client
		name     = "gitops-web"
		id       string
		imageUID string
	)
	manifest := func(change ...func(spec map[string]any)) *unstructured.Unstructured {
		m := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": computev1.GroupVersion.String(),
			"kind":       "Server",
			"metadata":   map[string]any{"name": name, "namespace": tenantName},
			"spec": map[string]any{
				"flavorRef":   "m1.small",
				"imageRef":    "cirros",
				"networks":    []any{map[string]any{"name": "private"}},
				"powerState":  "Active",
				"description": "managed in git",
				"tags":        []any{"web", "gitops"},
				"accessIPv4":  "192.0.2.10",
				"metadata":    map[string]any{"owner": "git"},
			},
		}}
		for _, c := range change {
			c(m.Object["spec"].(map[string]any))
		}
		return m
	}
	apply := func(ctx context.Context) error {
		return argo.Apply(ctx, client.ApplyConfigurationFromUnstructured(manifest()), client.FieldOwner(manager))
	}
	get := func(ctx context.Context) *computev1.Server {
		GinkgoHelper()
		srv := &computev1.Server{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, srv)).To(Succeed())
		return srv
	}
	// settled waits for the server to show status with no task, on flavor and image.
	settled := func(ctx context.Context, status, flavor, image string) {
		GinkgoHelper()
		Eventually(func(g Gomega) {
			srv := &computev1.Server{}
			g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, srv)).To(Succeed())
			g.Expect(srv.Status.Status).To(Equal(status), "fault %+v", srv.Status.Fault)
			g.Expect(srv.Status.TaskState).To(BeEmpty())
			g.Expect(srv.Status.Operation).To(BeNil())
			g.Expect(srv.Status.Flavor).To(Equal(flavor))
			g.Expect(srv.Status.Image).To(Equal(image))
		}).Should(Succeed())
	}
	// act asks for a ServerAction with kubectl and waits for it to succeed.
	act := func(ctx context.Context, spec computev1.ServerActionSpec) {
		GinkgoHelper()
		spec.ServerName = name
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName,
			GenerateName: name + "-" + strings.ToLower(string(spec.Action)) + "-"}, Spec: spec}
		Expect(argo.Create(ctx, sa)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(sa), sa)).To(Succeed())
			g.Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		}).Should(Succeed())
	}
	rest := func(ctx context.Context, body map[string]any) {
		GinkgoHelper()
		Expect(action(ctx, compute(tokens["admin"], "direct"), id, body)).To(Succeed())
	}
	actionCount := func(ctx context.Context) int {
		var list computev1.ServerActionList
		Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
		n := 0
		for _, sa := range list.Items {
			if sa.Spec.ServerName == name {
				n++
			}
		}
		return n
	}

	BeforeAll(func(ctx SpecContext) {
		// The tenant's admin applies, as an Argo CD with the tenant's kova-admin role would.
		argo = kubectlAs(tokens["admin"])
		img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "gitops-ubuntu"},
			Spec: computev1.ImageSpec{Name: "gitops-ubuntu", Visibility: "private", DiskFormat: "qcow2", ContainerFormat: "bare",
				Source: computev1.ImageSource{URL: "example.invalid/ubuntu"}}}
		Expect(stack.Client.Create(ctx, img)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(img), img)).To(Succeed())
			g.Expect(img.Status.Status).To(Equal(computev1.ImageActive))
		}).Should(Succeed())
		imageUID = string(img.UID)
		DeferCleanup(func(ctx SpecContext) {
			Expect(client.IgnoreNotFound(stack.Client.Delete(ctx, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name}}))).To(Succeed())
		})
	})

	It("applies, is acted on through REST and ServerActions, and applies again with nothing to do", func(ctx SpecContext) {
		By("the first sync creates the server")
		Expect(apply(ctx)).To(Succeed())
		settled(ctx, "ACTIVE", "m1.small", "cirros")
		id = string(get(ctx).UID)
		s, err := servers.Get(ctx, compute(tokens["admin"], "direct"), id).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(s.AccessIPv4).To(Equal("192.0.2.10"))
		Expect(s.Metadata).To(HaveKeyWithValue("owner", "git"))

		By("rebuild with another image, through REST, then again with a ServerAction")
		rest(ctx, map[string]any{"rebuild": map[string]any{"imageRef": imageUID}})
		settled(ctx, "ACTIVE", "m1.small", "gitops-ubuntu")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionRebuild})
		settled(ctx, "ACTIVE", "m1.small", "gitops-ubuntu")

		By("resize and revert through REST")
		rest(ctx, map[string]any{"resize": map[string]any{"flavorRef": "m1.medium"}})
		settled(ctx, "VERIFY_RESIZE", "m1.medium", "gitops-ubuntu")
		rest(ctx, map[string]any{"revertResize": nil})
		settled(ctx, "ACTIVE", "m1.small", "gitops-ubuntu")

		By("resize and revert, then resize and confirm, with ServerActions")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionResize, Resize: &computev1.ResizeParams{FlavorRef: "m1.medium"}})
		settled(ctx, "VERIFY_RESIZE", "m1.medium", "gitops-ubuntu")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionRevertResize})
		settled(ctx, "ACTIVE", "m1.small", "gitops-ubuntu")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionResize, Resize: &computev1.ResizeParams{FlavorRef: "m1.medium"}})
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionConfirmResize})
		settled(ctx, "ACTIVE", "m1.medium", "gitops-ubuntu")

		By("stop with a ServerAction, start, and stop through REST")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionStop})
		settled(ctx, "SHUTOFF", "m1.medium", "gitops-ubuntu")
		act(ctx, computev1.ServerActionSpec{Action: computev1.ActionStart})
		settled(ctx, "ACTIVE", "m1.medium", "gitops-ubuntu")
		rest(ctx, map[string]any{"os-stop": nil})
		settled(ctx, "SHUTOFF", "m1.medium", "gitops-ubuntu")

		By("the spec is still the manifest's, and only the GitOps tool owns any of it")
		srv := get(ctx)
		Expect(srv.Spec.FlavorRef).To(Equal("m1.small"))
		Expect(srv.Spec.ImageRef).To(Equal("cirros"))
		Expect(srv.Spec.PowerState).To(Equal(computev1.PowerActive))
		expectSpecOwnedBy(srv, manager)

		By("the next sync applies the same manifest: no conflict")
		before := actionCount(ctx)
		generation := srv.Generation
		Expect(apply(ctx)).To(Succeed())

		By("and nothing starts: the server stays what the actions made it")
		Consistently(func(g Gomega) {
			cur := &computev1.Server{}
			g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, cur)).To(Succeed())
			g.Expect(cur.Generation).To(Equal(generation))
			g.Expect(cur.Status.Status).To(Equal("SHUTOFF"))
			g.Expect(cur.Status.TaskState).To(BeEmpty())
			g.Expect(cur.Status.Operation).To(BeNil())
			g.Expect(cur.Status.Flavor).To(Equal("m1.medium"))
			g.Expect(cur.Status.Image).To(Equal("gitops-ubuntu"))
		}, 3*time.Second, 100*time.Millisecond).Should(Succeed())
		Expect(actionCount(ctx)).To(Equal(before))
		expectSpecOwnedBy(get(ctx), manager)

		By("os-instance-actions lists every action, from ServerActions and the server itself")
		pages, err := instanceactions.List(compute(tokens["admin"], "direct"), id, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		list, err := instanceactions.ExtractInstanceActions(pages)
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, a := range list {
			names = append(names, a.Action)
		}
		Expect(names).To(ConsistOf("stop", "start", "stop", "confirmResize", "resize", "revertResize", "resize",
			"revertResize", "resize", "rebuild", "rebuild", "create"))
		Expect(names[len(names)-1]).To(Equal("create"))
	})

	It("carries out a change in git once, and records it", func(ctx SpecContext) {
		stopped := func(spec map[string]any) { spec["powerState"], spec["imageRef"] = "Stopped", "gitops-ubuntu" }
		Expect(argo.Apply(ctx, client.ApplyConfigurationFromUnstructured(manifest(stopped)), client.FieldOwner(manager))).To(Succeed())
		// Stopped and gitops-ubuntu are what the server already is: nothing to start.
		Consistently(func(g Gomega) {
			cur := &computev1.Server{}
			g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, cur)).To(Succeed())
			g.Expect(cur.Status.Operation).To(BeNil())
			g.Expect(cur.Status.Status).To(Equal("SHUTOFF"))
		}, 2*time.Second, 100*time.Millisecond).Should(Succeed())

		By("a new power state in git is a start, recorded as a ServerAction from the spec")
		active := func(spec map[string]any) { spec["powerState"] = "Active" }
		Expect(argo.Apply(ctx, client.ApplyConfigurationFromUnstructured(manifest(stopped, active)), client.FieldOwner(manager))).To(Succeed())
		settled(ctx, "ACTIVE", "m1.medium", "gitops-ubuntu")
		var list computev1.ServerActionList
		Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName),
			client.MatchingLabels{computev1.LabelServer: name, computev1.LabelFromSpec: "true"})).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Expect(list.Items[0].Spec.Action).To(Equal(computev1.ActionStart))
		Eventually(func(g Gomega) {
			sa := &computev1.ServerAction{}
			g.Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(&list.Items[0]), sa)).To(Succeed())
			g.Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded))
		}).Should(Succeed())
		expectSpecOwnedBy(get(ctx), manager)
	})

	It("keeps the creation-time labels through a replace with a manifest that never had them", func(ctx SpecContext) {
		before := get(ctx)
		replaced := before.DeepCopy()
		for _, k := range rules.CreatedLabelKeys() {
			Expect(replaced.Labels).To(HaveKey(k))
			delete(replaced.Labels, k)
		}
		warned := &testenv.Warnings{}
		Expect(kubectlAs(tokens["admin"], warned).Update(ctx, replaced)).To(Succeed())
		Expect(warned.All()).To(ContainElement(And(ContainSubstring(computev1.LabelCreated1s), ContainSubstring("put back"))),
			"what kubectl prints of the labels it did not remove")
		// With them put back, the update changes nothing: the server stays as it was.
		after := get(ctx)
		Expect(after.Labels).To(Equal(before.Labels), "the labels that say when the server was made")
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))

		By("and a list in creation order, page by page, still shows the server")
		var seen []string
		Expect(servers.List(compute(tokens["admin"], "direct"), servers.ListOpts{Limit: 2}).EachPage(ctx,
			func(_ context.Context, page pagination.Page) (bool, error) {
				got, err := servers.ExtractServers(page)
				for _, s := range got {
					seen = append(seen, s.ID)
				}
				return true, err
			})).To(Succeed())
		Expect(seen).To(ContainElement(string(after.UID)))
	})
})

// expectSpecOwnedBy says that no field manager but want owns a field of srv's spec.
func expectSpecOwnedBy(srv *computev1.Server, want string) {
	GinkgoHelper()
	for _, mf := range srv.ManagedFields {
		if mf.FieldsV1 == nil || !strings.Contains(mf.FieldsV1.GetRawString(), `"f:spec"`) {
			continue
		}
		Expect(mf.Manager).To(Equal(want), "%s (%s) owns spec fields: %s", mf.Manager, mf.Operation, mf.FieldsV1.GetRawString())
	}
}
