package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// openstack runs the openstack CLI (Debian's python3-openstackclient) against the direct
// endpoint with a role's token, and returns its standard output.
func openstack(ctx context.Context, role string, args ...string) (string, error) {
	return openstackAs(ctx, tokens[role], args...)
}

// openstackAs is openstack with any token (say the cloud operator's).
func openstackAs(ctx context.Context, token string, args ...string) (string, error) {
	base := []string{
		"--os-auth-type", "admin_token", "--os-token", token,
		"--os-endpoint", stack.DirectURL + "/v2.1/" + tenantName,
		"--os-cacert", stack.DirectCAFile,
		"--os-compute-api-version", "2.37",
	}
	cloudsFile, err := cliClouds()
	if err != nil {
		return "", err
	}
	env := append(os.Environ(), "OS_CLIENT_CONFIG_FILE="+cloudsFile)
	return runCLI(ctx, env, append(append([]string{"--os-cloud", "kova"}, base...), args...)...)
}

// runCLI runs the openstack CLI with args, in env if not nil, and returns its standard
// output, or its standard error in the error.
func runCLI(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &cliError{err: err, stderr: stderr.String()}
	}
	return string(out), nil
}

// cliClouds writes the clouds.yaml that tells the CLI where the services other than
// compute are, in the running spec's temporary directory: admin_token gives it no catalog,
// and --os-endpoint is compute's alone. openstacksdk reads <service>_endpoint_override from
// a cloud's config (with this CLI, not from OS_NETWORK_ENDPOINT_OVERRIDE or
// OS_IMAGE_ENDPOINT_OVERRIDE next to --os-* options) and discovers the version from the
// document there.
func cliClouds() (string, error) {
	file := filepath.Join(GinkgoT().TempDir(), "clouds.yaml")
	clouds := fmt.Sprintf("clouds:\n  kova:\n    network_endpoint_override: %s/networking\n    image_endpoint_override: %s/image\n",
		stack.DirectURL, stack.DirectURL)
	return file, os.WriteFile(file, []byte(clouds), 0o600)
}

type cliError struct {
	err    error
	stderr string
}

func (e *cliError) Error() string { return e.err.Error() + ": " + e.stderr }

func cliJSON(ctx context.Context, role string, into any, args ...string) {
	GinkgoHelper()
	out, err := openstack(ctx, role, append(args, "-f", "json")...)
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal([]byte(out), into)).To(Succeed(), out)
}

var _ = Describe("The openstack CLI", func() {
	BeforeEach(func() {
		if _, err := exec.LookPath("openstack"); err != nil {
			Fail("the openstack CLI is not installed: `make test` installs python3-openstackclient (make openstack-cli)")
		}
	})

	It("lists flavors and images, creates a keypair, and walks a server", func(ctx SpecContext) {
		var flavorList []map[string]any
		cliJSON(ctx, "observer", &flavorList, "flavor", "list")
		Expect(flavorList).To(ContainElement(HaveKeyWithValue("Name", "m1.small")))

		var imageList []map[string]any
		cliJSON(ctx, "observer", &imageList, "image", "list")
		Expect(imageList).To(ContainElement(HaveKeyWithValue("Name", "cirros")))
		var imageID string
		for _, img := range imageList {
			if img["Name"] == "cirros" {
				imageID = img["ID"].(string)
			}
		}

		// Keypairs are per user, as in Nova: the admin who boots the server makes its key.
		out, err := openstack(ctx, "admin", "keypair", "create", "cli-key")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("PRIVATE KEY"))

		var created map[string]any
		cliJSON(ctx, "admin", &created, "server", "create", "--flavor", "m1.tiny", "--image", imageID,
			"--nic", "net-id="+networkID, "--key-name", "cli-key", "--wait", "cli-server")
		Expect(created).To(HaveKeyWithValue("status", "ACTIVE"))
		id := created["id"].(string)

		var list []map[string]any
		cliJSON(ctx, "observer", &list, "server", "list")
		Expect(list).To(ContainElement(And(HaveKeyWithValue("ID", id), HaveKeyWithValue("Status", "ACTIVE"))))

		status := func() string {
			var shown map[string]any
			cliJSON(ctx, "observer", &shown, "server", "show", id)
			return shown["status"].(string)
		}
		_, err = openstack(ctx, "admin", "server", "stop", id)
		Expect(err).NotTo(HaveOccurred())
		Eventually(status).WithTimeout(2 * time.Minute).Should(Equal("SHUTOFF"))
		_, err = openstack(ctx, "admin", "server", "start", id)
		Expect(err).NotTo(HaveOccurred())
		Eventually(status).WithTimeout(2 * time.Minute).Should(Equal("ACTIVE"))

		By("a creator may not delete (Rackspace's matrix), an admin may")
		_, err = openstack(ctx, "creator", "server", "delete", id)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("403"))
		_, err = openstack(ctx, "admin", "server", "delete", "--wait", id)
		Expect(err).NotTo(HaveOccurred())
		_, err = openstack(ctx, "observer", "server", "show", id)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("No server with a name or ID"))
	}, SpecTimeout(5*time.Minute))
})
