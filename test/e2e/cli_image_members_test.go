package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/testenv"
)

var _ = Describe("The openstack CLI on image members", func() {
	It("adds a project, which accepts with image set --accept (its token's project), lists members, and is removed", func(ctx SpecContext) {
		// The member answers for the project its token is scoped to (the CLI's auth_ref), so it
		// logs in at the identity service: dana, kova-admin of tenant other.
		const user, password = "dana", "dana-Secret-4"
		_, err := identity.DeclareUser(ctx, stack.Client, testenv.SystemNamespace, user, password, "other")
		Expect(err).NotTo(HaveOccurred())
		Expect(client.IgnoreAlreadyExists(stack.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "identity-" + user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kova:" + user}},
		}))).To(Succeed())
		override := identity.ImageEndpointOverride(ctx, identityHTTP(), stack.DirectURL, "other")
		out, err := yaml.Marshal(map[string]any{"clouds": map[string]any{
			"kova": identity.Cloud(stack.DirectURL+"/identity/v3", user, password, "other", stack.DirectCAFile, override),
		}})
		Expect(err).NotTo(HaveOccurred())
		clouds := filepath.Join(GinkgoT().TempDir(), "clouds.yaml")
		Expect(os.WriteFile(clouds, out, 0o600)).To(Succeed())
		member := func(into any, args ...string) {
			GinkgoHelper()
			out, err := cloudCLI(ctx, clouds, append(args, "-f", "json")...)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Unmarshal([]byte(out), into)).To(Succeed(), out)
		}

		img := activeSharedImage(ctx, "cli-shared")
		var added map[string]any
		cliJSON(ctx, "admin", &added, "image", "add", "project", "cli-shared", "other")
		Expect(added).To(HaveKeyWithValue("member_id", "other"))
		Expect(added).To(HaveKeyWithValue("status", "pending"))
		_, err = openstack(ctx, "creator", "image", "add", "project", "cli-shared", "image-stranger")
		Expect(err).To(HaveOccurred(), "adding members is the owner's kova-admin's")

		var listed []map[string]any
		member(&listed, "image", "list")
		Expect(listed).NotTo(ContainElement(HaveKeyWithValue("ID", img.ID)), "pending: not listed")

		_, err = cloudCLI(ctx, clouds, "image", "set", "--accept", img.ID)
		Expect(err).NotTo(HaveOccurred())
		var members []map[string]any
		cliJSON(ctx, "observer", &members, "image", "member", "list", "cli-shared")
		Expect(members).To(ConsistOf(And(HaveKeyWithValue("Member ID", "other"), HaveKeyWithValue("Status", "accepted"))))
		member(&members, "image", "member", "list", img.ID)
		Expect(members).To(ConsistOf(HaveKeyWithValue("Status", "accepted")))
		member(&listed, "image", "list")
		Expect(listed).To(ContainElement(And(HaveKeyWithValue("ID", img.ID), HaveKeyWithValue("Name", "cli-shared"))))

		_, err = openstack(ctx, "admin", "image", "remove", "project", "cli-shared", "other")
		Expect(err).NotTo(HaveOccurred())
		_, err = cloudCLI(ctx, clouds, "image", "show", img.ID)
		Expect(err).To(HaveOccurred(), "no longer a member: the image is not found")
		Expect(err.Error()).To(ContainSubstring("No Image found"))
	})
})
