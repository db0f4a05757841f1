package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The openstack CLI's rebuild", func() {
	It("gives the server a new keypair and user data (2.57), and takes them away", func(ctx SpecContext) {
		var imageList []map[string]any
		cliJSON(ctx, "observer", &imageList, "image", "list")
		imageID := ""
		for _, img := range imageList {
			if img["Name"] == "cirros" {
				imageID = img["ID"].(string)
			}
		}
		Expect(imageID).NotTo(BeEmpty())
		for _, key := range []string{"cli-rb-boot", "cli-rb-next"} {
			_, err := openstack(ctx, "admin", "keypair", "create", key)
			Expect(err).NotTo(HaveOccurred())
		}
		var created map[string]any
		cliJSON(ctx, "admin", &created, "server", "create", "--flavor", "m1.tiny", "--image", imageID,
			"--nic", "net-id="+networkID, "--key-name", "cli-rb-boot", "--wait", "cli-rebuild")
		id := created["id"].(string)
		DeferCleanup(func(ctx SpecContext) { // gophercloud: the CLI's clouds.yaml wants a DeferCleanup of its own
			Expect(servers.Delete(ctx, compute(tokens["admin"], "direct"), id).ExtractErr()).To(Succeed())
		})
		userData := filepath.Join(GinkgoT().TempDir(), "user-data")
		Expect(os.WriteFile(userData, []byte("#cloud-config\n"), 0o600)).To(Succeed())

		// shown is the server once the rebuild is over, as `openstack server show` prints it.
		shown := func() map[string]any {
			GinkgoHelper()
			var s map[string]any
			Eventually(func(g Gomega) {
				out, err := openstack(ctx, "admin", "server", "show", "-f", "json", id)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(json.Unmarshal([]byte(out), &s)).To(Succeed(), out)
				g.Expect(s).To(HaveKeyWithValue("status", "ACTIVE"))
				g.Expect(s).To(HaveKeyWithValue("OS-EXT-STS:task_state", BeNil()))
			}).WithTimeout(2 * time.Minute).Should(Succeed())
			return s
		}

		var rebuilt map[string]any
		cliJSON(ctx, "admin", &rebuilt, "--os-compute-api-version", "2.57", "server", "rebuild", "--image", imageID,
			"--key-name", "cli-rb-next", "--user-data", userData, id)
		Expect(rebuilt).To(HaveKeyWithValue("key_name", "cli-rb-next"))
		Expect(shown()).To(HaveKeyWithValue("key_name", "cli-rb-next"))
		Expect(userDataOf(ctx, "direct", id)).To(Equal(b64("#cloud-config\n")))

		cliJSON(ctx, "admin", &rebuilt, "--os-compute-api-version", "2.57", "server", "rebuild", "--image", imageID,
			"--no-key-name", "--no-user-data", id)
		Expect(rebuilt).To(HaveKeyWithValue("key_name", BeNil()))
		Expect(shown()).To(HaveKeyWithValue("key_name", BeNil()))
		Expect(userDataOf(ctx, "direct", id)).To(BeNil())
	}, SpecTimeout(5*time.Minute))
})
