package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Nova's two kinds of admin, end to end: a project user (kova-creator), the tenant's admin
// (kova-admin, a RoleBinding) and the cloud operator (kova-admin and kova-cloud-admin,
// ClusterRoleBindings), through both REST ways in and kubectl.

var (
	operatorOnce  sync.Once
	operatorToken string
)

// operator is the token of the demo tenant's cloud operator, made once.
func operator(ctx SpecContext) string {
	GinkgoHelper()
	operatorOnce.Do(func() {
		k8s := stack.Client
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "operator"}}
		Expect(k8s.Create(ctx, sa)).To(Succeed())
		for _, role := range []string{"kova-admin", "kova-cloud-admin"} {
			Expect(k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "e2e-operator-" + role},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenantName, Name: sa.Name}},
			})).To(Succeed())
		}
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)}}
		Expect(k8s.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
		operatorToken = tr.Status.Token
	})
	return operatorToken
}

// getJSON GETs a path under the demo tenant at a microversion and decodes the answer.
func getJSON(ctx SpecContext, token, way, version, path string) (int, map[string]any) {
	GinkgoHelper()
	code, _, body := raw(ctx, token, way, http.MethodGet, path, nil, map[string]string{"X-OpenStack-Nova-API-Version": version})
	var m map[string]any
	if code == http.StatusOK {
		Expect(json.Unmarshal(body, &m)).To(Succeed(), "%s", body)
	}
	return code, m
}

var _ = Describe("Nova's two kinds of admin", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("lets only the cloud operator override a lock and see what Nova shows its admin, through the %s way in", way), func(ctx SpecContext) {
			op := operator(ctx)
			users := map[string]string{"project user": tokens["creator"], "tenant admin": tokens["admin"], "cloud operator": op}
			admin := compute(tokens["admin"], way)
			imgs := listImages(ctx, admin)
			s, err := servers.Create(ctx, admin, servers.CreateOpts{Name: "two-admins-" + way, FlavorRef: "m1.tiny",
				ImageRef: imgs["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			waitFor(ctx, admin, s.ID, "ACTIVE")
			Eventually(func() int { code, _ := getJSON(ctx, op, way, "2.1", "/servers/"+s.ID); return code }).Should(Equal(http.StatusOK),
				"the operator's bindings are seen")

			By("host attributes and host_status are the operator's alone")
			for who, tok := range users {
				code, m := getJSON(ctx, tok, way, "2.47", "/servers/"+s.ID)
				Expect(code).To(Equal(http.StatusOK), who)
				srv := m["server"].(map[string]any)
				if who == "cloud operator" {
					Expect(srv).To(HaveKey("OS-EXT-SRV-ATTR:host"), who)
					Expect(srv).To(HaveKeyWithValue("host_status", "UP"), who)
				} else {
					Expect(srv).NotTo(HaveKey("OS-EXT-SRV-ATTR:host"), who)
					Expect(srv).NotTo(HaveKey("host_status"), who)
				}
			}

			By("instance-action events below 2.51 are the operator's alone")
			_, m := getJSON(ctx, op, way, "2.1", "/servers/"+s.ID+"/os-instance-actions")
			acts := m["instanceActions"].([]any)
			Expect(acts).NotTo(BeEmpty())
			reqID := acts[len(acts)-1].(map[string]any)["request_id"].(string)
			for who, tok := range users {
				code, m := getJSON(ctx, tok, way, "2.1", "/servers/"+s.ID+"/os-instance-actions/"+reqID)
				Expect(code).To(Equal(http.StatusOK), who)
				_, hasEvents := m["instanceAction"].(map[string]any)["events"]
				Expect(hasEvents).To(Equal(who == "cloud operator"), who)
				_, m = getJSON(ctx, tok, way, "2.51", "/servers/"+s.ID+"/os-instance-actions/"+reqID)
				Expect(m["instanceAction"]).To(HaveKey("events"), who)
			}

			By("all_tenants is the operator's alone")
			for who, tok := range users {
				code, m := getJSON(ctx, tok, way, "2.1", "/servers?all_tenants=1")
				if who != "cloud operator" {
					Expect(code).To(Equal(http.StatusForbidden), who)
					continue
				}
				Expect(code).To(Equal(http.StatusOK))
				var ids []string
				for _, x := range m["servers"].([]any) {
					ids = append(ids, x.(map[string]any)["id"].(string))
				}
				Expect(ids).To(ContainElement(s.ID))
			}

			By("a lock the tenant admin sets holds for the tenant admin, not for the operator")
			Expect(action(ctx, admin, s.ID, map[string]any{"lock": nil})).To(Succeed())
			err = action(ctx, admin, s.ID, map[string]any{"os-stop": nil})
			Expect(codeOf(err)).To(Equal(http.StatusConflict))
			Expect(bodyOf(err)).To(ContainSubstring("Instance " + s.ID + " is locked"))
			Expect(action(ctx, compute(op, way), s.ID, map[string]any{"os-stop": nil})).To(Succeed())
			waitFor(ctx, admin, s.ID, "SHUTOFF")

			By("through kubectl too: the tenant admin may not start it, the operator may")
			key := client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}
			power := func(c client.Client, p computev1.PowerState) error {
				return retry.RetryOnConflict(retry.DefaultRetry, func() error {
					cur := &computev1.Server{}
					if err := stack.Client.Get(ctx, key, cur); err != nil {
						return err
					}
					cur.Spec.PowerState = p
					return c.Update(ctx, cur)
				})
			}
			// The REST stop left the spec as it was (Active): only users write spec, and a
			// spec-driven action fires on a change. Declaring Stopped, what the server is,
			// starts nothing and needs no right; the controller records it as carried out.
			Expect(power(kubectlAs(tokens["admin"]), computev1.PowerStopped)).To(Succeed())
			Eventually(func(g Gomega) {
				cur := &computev1.Server{}
				g.Expect(stack.Client.Get(ctx, key, cur)).To(Succeed())
				g.Expect(cur.Status.Applied).NotTo(BeNil())
				g.Expect(cur.Status.Applied.PowerState).To(Equal(computev1.PowerStopped))
			}).Should(Succeed())
			err = power(kubectlAs(tokens["admin"]), computev1.PowerActive)
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("Instance " + s.ID + " is locked"))
			Expect(power(kubectlAs(op), computev1.PowerActive)).To(Succeed())
			waitFor(ctx, admin, s.ID, "ACTIVE")

			By("the operator deletes the locked server; the tenant admin could not")
			Expect(codeOf(servers.Delete(ctx, admin, s.ID).ExtractErr())).To(Equal(http.StatusConflict))
			Expect(servers.Delete(ctx, compute(op, way), s.ID).ExtractErr()).To(Succeed())
			Eventually(func() int { _, err := servers.Get(ctx, admin, s.ID).Extract(); return codeOf(err) }).Should(Equal(http.StatusNotFound))
		})
	}
})

// serverObjectName is the name of the Server object whose Nova id is id.
func serverObjectName(ctx SpecContext, id string) string {
	GinkgoHelper()
	var list computev1.ServerList
	Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
	for _, s := range list.Items {
		if string(s.UID) == id {
			return s.Name
		}
	}
	Fail("no Server object for " + id)
	return ""
}
