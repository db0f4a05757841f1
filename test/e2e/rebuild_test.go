package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// rebuildWith is gophercloud's RebuildOpts with what it has no field for: key_name (2.54)
// and user_data (2.57), a nil value sent as null. RebuildOptsBuilder is gophercloud's own
// way to add parameters to a rebuild.
type rebuildWith struct {
	servers.RebuildOpts
	extra map[string]any
}

func (o rebuildWith) ToServerRebuildMap() (map[string]any, error) {
	m, err := o.RebuildOpts.ToServerRebuildMap()
	if err != nil {
		return nil, err
	}
	maps.Copy(m["rebuild"].(map[string]any), o.extra)
	return m, nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// rebuildAnswer rebuilds id and returns the server of the 202 answer.
func rebuildAnswer(ctx context.Context, c *gophercloud.ServiceClient, id, image string, extra map[string]any) (map[string]any, error) {
	r := servers.Rebuild(ctx, c, id, rebuildWith{servers.RebuildOpts{ImageRef: image}, extra})
	if r.Err != nil {
		return nil, r.Err
	}
	server, _ := r.Body.(map[string]any)["server"].(map[string]any)
	return server, nil
}

// userDataOf is the user data Nova's admin sees on a server (OS-EXT-SRV-ATTR:user_data, 2.3+).
func userDataOf(ctx SpecContext, way, id string) any {
	GinkgoHelper()
	code, m := getJSON(ctx, operator(ctx), way, "2.57", "/servers/"+id)
	Expect(code).To(Equal(http.StatusOK))
	return m["server"].(map[string]any)["OS-EXT-SRV-ATTR:user_data"]
}

var _ = Describe("A rebuild with a new keypair (2.54) and user data (2.57)", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("shows them in its answer and every read after it, null removes them, and bad ones are Nova's 400s, through the %s way in", way), func(ctx SpecContext) {
			admin := compute(tokens["admin"], way)
			boot, next := "rb-boot-"+way, "rb-next-"+way
			for _, name := range []string{boot, next} {
				_, err := keypairs.Create(ctx, admin, keypairs.CreateOpts{Name: name}).Extract()
				Expect(err).NotTo(HaveOccurred())
			}
			image := listImages(ctx, admin)["cirros"]
			s, err := servers.Create(ctx, admin, keypairs.CreateOptsExt{KeyName: boot, CreateOptsBuilder: servers.CreateOpts{
				Name: "rebuild-keys-" + way, FlavorRef: "m1.tiny", ImageRef: image, UserData: []byte("booted"),
				Networks: []servers.Network{{UUID: networkID}}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			id := s.ID
			DeferCleanup(func(ctx SpecContext) { Expect(servers.Delete(ctx, admin, id).ExtractErr()).To(Succeed()) })
			waitFor(ctx, admin, id, "ACTIVE")
			Expect(userDataOf(ctx, way, id)).To(Equal(b64("booted")))

			By("the 202 shows the new keypair and user data, and so does a read right after it")
			admin.Microversion = "2.57"
			answer, err := rebuildAnswer(ctx, admin, id, image, map[string]any{"key_name": next, "user_data": b64("rebuilt")})
			Expect(err).NotTo(HaveOccurred())
			Expect(answer).To(HaveKeyWithValue("key_name", next))
			Expect(answer).To(HaveKeyWithValue("user_data", b64("rebuilt")))
			Expect(answer).To(HaveKeyWithValue("status", "REBUILD"))
			got, err := servers.Get(ctx, admin, id).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.KeyName).To(Equal(next))
			Expect(userDataOf(ctx, way, id)).To(Equal(b64("rebuilt")))

			By("once rebuilt, the server keeps them; its spec is still what it booted with")
			Expect(waitFor(ctx, admin, id, "ACTIVE").KeyName).To(Equal(next))
			Expect(userDataOf(ctx, way, id)).To(Equal(b64("rebuilt")))
			var list computev1.ServerList
			Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
			var obj *computev1.Server
			for i := range list.Items {
				if string(list.Items[i].UID) == id {
					obj = &list.Items[i]
				}
			}
			Expect(obj).NotTo(BeNil())
			Expect(obj.Status.KeyName).To(HaveValue(Equal(next)))
			Expect(obj.Status.UserData).To(HaveValue(Equal(b64("rebuilt"))))
			Expect(obj.Spec.UserData).To(Equal(b64("booted")))

			By("null removes both")
			answer, err = rebuildAnswer(ctx, admin, id, image, map[string]any{"key_name": nil, "user_data": nil})
			Expect(err).NotTo(HaveOccurred())
			Expect(answer).To(HaveKeyWithValue("key_name", BeNil()))
			Expect(answer).To(HaveKeyWithValue("user_data", BeNil()))
			Expect(userDataOf(ctx, way, id)).To(BeNil())
			Expect(waitFor(ctx, admin, id, "ACTIVE").KeyName).To(BeEmpty())
			Expect(userDataOf(ctx, way, id)).To(BeNil())

			By("Nova's refusals: another user's or no keypair, user data that is not base64, either below its microversion")
			creatorKey := "rb-creator-" + way
			_, err = keypairs.Create(ctx, compute(tokens["creator"], way), keypairs.CreateOpts{Name: creatorKey}).Extract()
			Expect(err).NotTo(HaveOccurred())
			for _, name := range []string{"no-such-key", creatorKey} {
				_, err = rebuildAnswer(ctx, admin, id, image, map[string]any{"key_name": name})
				Expect(codeOf(err)).To(Equal(http.StatusBadRequest), "%v", err)
				Expect(bodyOf(err)).To(MatchJSON(`{"badRequest": {"code": 400, "message": "Invalid key_name provided."}}`))
			}
			_, err = rebuildAnswer(ctx, admin, id, image, map[string]any{"user_data": "!!notb64"})
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest), "%v", err)
			Expect(bodyOf(err)).To(MatchJSON(`{"badRequest": {"code": 400, "message": "Invalid input for field/attribute user_data. Value: !!notb64. '!!notb64' is not valid under any of the given schemas"}}`))
			admin.Microversion = "2.53"
			_, err = rebuildAnswer(ctx, admin, id, image, map[string]any{"key_name": next})
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest), "%v", err)
			Expect(bodyOf(err)).To(ContainSubstring(`Additional properties are not allowed ('key_name' was unexpected)`))
			Expect(waitFor(ctx, admin, id, "ACTIVE").KeyName).To(BeEmpty())
		})
	}

	It("through kubectl: a ServerAction gives the new keypair and user data; a creator or an observer may not rebuild", func(ctx SpecContext) {
		admin := compute(tokens["admin"], "direct")
		image := listImages(ctx, admin)["cirros"]
		_, err := keypairs.Create(ctx, admin, keypairs.CreateOpts{Name: "rb-kubectl"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		s, err := servers.Create(ctx, admin, servers.CreateOpts{Name: "rebuild-kubectl", FlavorRef: "m1.tiny", ImageRef: image,
			Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(servers.Delete(ctx, admin, s.ID).ExtractErr()).To(Succeed()) })
		waitFor(ctx, admin, s.ID, "ACTIVE")
		admin.Microversion = "2.57"
		var list computev1.ServerList
		Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
		name := ""
		for _, srv := range list.Items {
			if string(srv.UID) == s.ID {
				name = srv.Name
			}
		}
		Expect(name).NotTo(BeEmpty())
		newAction := func() *computev1.ServerAction {
			return &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, GenerateName: name + "-rebuild-"},
				Spec: computev1.ServerActionSpec{ServerName: name, Action: computev1.ActionRebuild,
					Rebuild: &computev1.RebuildParams{KeyName: ptr.To("rb-kubectl"), UserData: ptr.To(b64("from kubectl"))}}}
		}

		By("the tenant's admin, who may rebuild")
		sa := newAction()
		Expect(kubectlAs(tokens["admin"]).Create(ctx, sa)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(sa), sa)).To(Succeed())
			g.Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		}).Should(Succeed())
		Expect(waitFor(ctx, admin, s.ID, "ACTIVE").KeyName).To(Equal("rb-kubectl"))
		Expect(userDataOf(ctx, "direct", s.ID)).To(Equal(b64("from kubectl")))

		By("a creator and an observer are refused, as the REST rebuild refuses them")
		for _, role := range []string{"creator", "observer"} {
			err := kubectlAs(tokens[role]).Create(ctx, newAction())
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", role, err)
		}

		By("a keypair that is not the requester's, and user data that is not base64, are refused")
		bad := newAction()
		bad.Spec.Rebuild.KeyName = ptr.To("no-such-key")
		err = kubectlAs(tokens["admin"]).Create(ctx, bad)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Invalid key_name provided."))
		bad = newAction()
		bad.Spec.Rebuild.UserData = ptr.To("!!notb64")
		err = kubectlAs(tokens["admin"]).Create(ctx, bad)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("User data needs to be valid base 64."))
	})
})
