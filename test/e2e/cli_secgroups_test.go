package e2e

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Issue 12's CLI lines for security groups, floating IPs, names and quotas: the openstack
// CLI goes to the networking service for groups and floating IPs (its clouds.yaml names
// Kova's /networking), to the image service for --image NAME, and to compute for the
// server actions.

var _ = Describe("The openstack CLI with security groups and floating IPs", func() {
	It("makes a group with a rule, puts a server booted by names in it, gives it a floating IP, and takes both off", func(ctx SpecContext) {
		By("security group create, rule create, list and show go to the networking service")
		var group map[string]any
		cliJSON(ctx, "creator", &group, "security", "group", "create", "--description", "ssh in", "cli-ssh")
		groupID := group["id"].(string)
		DeferCleanup(func(ctx SpecContext) {
			raw(ctx, tokens["admin"], "direct", http.MethodDelete, "/os-security-groups/"+groupID, nil, nil)
		})
		var rule map[string]any
		_, err := openstack(ctx, "creator", "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "cli-ssh")
		Expect(err).To(MatchError(ContainSubstring("403")))
		cliJSON(ctx, "admin", &rule, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
			"--remote-ip", "0.0.0.0/0", "cli-ssh")
		Expect(rule).To(HaveKeyWithValue("port_range_min", BeNumerically("==", 22)))
		Expect(rule).To(HaveKeyWithValue("security_group_id", groupID))
		var rules []map[string]any
		cliJSON(ctx, "observer", &rules, "security", "group", "rule", "list", "cli-ssh")
		Expect(rules).To(ContainElement(HaveKeyWithValue("ID", rule["id"])))
		var groups []map[string]any
		cliJSON(ctx, "observer", &groups, "security", "group", "list")
		Expect(groups).To(ContainElement(HaveKeyWithValue("Name", "cli-ssh")))
		Expect(groups).To(ContainElement(HaveKeyWithValue("Name", "default")))
		var shown map[string]any
		cliJSON(ctx, "observer", &shown, "security", "group", "show", "cli-ssh")
		Expect(shown).To(HaveKeyWithValue("id", groupID))

		By("server create --image NAME --network NAME resolves both names")
		var created map[string]any
		cliJSON(ctx, "admin", &created, "server", "create", "--flavor", "m1.tiny", "--image", "cirros",
			"--network", "public", "--wait", "cli-sg")
		Expect(created).To(HaveKeyWithValue("status", "ACTIVE"))
		id := created["id"].(string)
		DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, compute(tokens["admin"], "direct"), id).ExtractErr() })

		By("server add and remove security group")
		_, err = openstack(ctx, "admin", "server", "add", "security", "group", id, "cli-ssh")
		Expect(err).NotTo(HaveOccurred())
		Expect(serverGroups(ctx, tokens["observer"], "direct", id)).To(ConsistOf("default", "cli-ssh"))
		_, err = openstack(ctx, "admin", "server", "remove", "security", "group", id, "cli-ssh")
		Expect(err).NotTo(HaveOccurred())
		Expect(serverGroups(ctx, tokens["observer"], "direct", id)).To(ConsistOf("default"))

		By("floating ip create public, server add and remove floating ip, floating ip delete")
		var fip map[string]any
		cliJSON(ctx, "creator", &fip, "floating", "ip", "create", "public")
		address := fip["floating_ip_address"].(string)
		fipID := fip["id"].(string)
		DeferCleanup(func(ctx SpecContext) {
			raw(ctx, tokens["admin"], "direct", http.MethodDelete, "/os-floating-ips/"+fipID, nil, nil)
		})
		_, err = openstack(ctx, "admin", "server", "add", "floating", "ip", id, address)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() []string { return floatingAddresses(ctx, tokens["observer"], "direct", id) }).
			WithTimeout(30 * time.Second).Should(Equal([]string{address}))
		var fips []map[string]any
		cliJSON(ctx, "observer", &fips, "floating", "ip", "list")
		Expect(fips).To(ContainElement(And(HaveKeyWithValue("Floating IP Address", address), HaveKeyWithValue("Port", Not(BeNil())))))
		_, err = openstack(ctx, "admin", "server", "remove", "floating", "ip", id, address)
		Expect(err).NotTo(HaveOccurred())
		Expect(floatingAddresses(ctx, tokens["observer"], "direct", id)).To(BeEmpty())
		_, err = openstack(ctx, "admin", "floating", "ip", "delete", fipID)
		Expect(err).NotTo(HaveOccurred())
		code, _, _ := raw(ctx, tokens["observer"], "direct", http.MethodGet, "/os-floating-ips/"+fipID, nil, nil)
		Expect(code).To(Equal(http.StatusNotFound))

		By("security group delete: refused while a server is in it, then done")
		_, err = openstack(ctx, "admin", "server", "add", "security", "group", id, "cli-ssh")
		Expect(err).NotTo(HaveOccurred())
		_, err = openstack(ctx, "admin", "security", "group", "delete", "cli-ssh")
		Expect(err).To(MatchError(ContainSubstring("in use")))
		_, err = openstack(ctx, "admin", "server", "remove", "security", "group", id, "cli-ssh")
		Expect(err).NotTo(HaveOccurred())
		_, err = openstack(ctx, "admin", "security", "group", "delete", "cli-ssh")
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(5*time.Minute))

	It("shows the tenant's quotas to a user logged in at the identity service", func(ctx SpecContext) {
		declareIdentityUsers(ctx)
		clouds := cloudsYAML(ctx, "bob", tenantName)
		out, err := cloudCLI(ctx, clouds, "quota", "show", "-f", "json")
		Expect(err).NotTo(HaveOccurred())
		var got map[string]any
		Expect(json.Unmarshal([]byte(out), &got)).To(Succeed(), out)
		// The test stacks' QuotaClass (testenv.OpenQuotas): 2000 instances; the networking
		// service's bounds on groups, rules and floating IPs.
		Expect(got).To(HaveKeyWithValue("instances", BeNumerically("==", 2000)))
		Expect(got).To(HaveKeyWithValue("secgroups", BeNumerically("==", 10)))
		Expect(got).To(HaveKeyWithValue("floating-ips", BeNumerically("==", 50)))
	})
})
