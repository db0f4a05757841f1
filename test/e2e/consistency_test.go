package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kova-dev/kova/internal/testenv"
)

// Read-your-writes across replicas: a second nova-api over the same API server, with its own
// informer cache. A write through one replica (either way in) is read back at once through
// the other, with gophercloud, and must show the write and the task it started. (With real
// lag this cannot fail every time; internal/novaapi's TestReadYourWrites, over a cache that
// never catches up, is the deterministic test.)
var _ = Describe("Read-your-writes across two nova-api replicas", Ordered, ContinueOnFailure, func() {
	var (
		replica   *testenv.Replica
		first     *gophercloud.ServiceClient // replica 1, through kube-apiserver
		firstDir  *gophercloud.ServiceClient // replica 1, directly
		second    *gophercloud.ServiceClient // replica 2, directly
		id        string
		flavorRef = "m1.small"
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		replica, err = stack.StartReplica(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(replica.Stop)
		first = compute(tokens["admin"], "aggregated")
		firstDir = compute(tokens["admin"], "direct")
		second = computeAt(tokens["admin"], replica.DirectURL)
		for _, c := range []*gophercloud.ServiceClient{first, firstDir, second} {
			c.Microversion = "2.9" // "locked" in the server's view
		}

		created, err := servers.Create(ctx, first, servers.CreateOpts{
			Name: "ryw", FlavorRef: flavorRef, ImageRef: listImages(ctx, first)["cirros"],
			Networks: []servers.Network{{UUID: networkID}},
		}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		id = created.ID
		By("seeing the new server through the other replica at once")
		_, err = servers.Get(ctx, second, id).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitFor(ctx, second, id, "ACTIVE")
	}, NodeTimeout(3*time.Minute))

	AfterAll(func(ctx SpecContext) {
		if id != "" {
			Expect(servers.Delete(ctx, first, id).ExtractErr()).To(Succeed())
		}
	})

	It("shows a metadata item set through the other replica", func(ctx SpecContext) {
		for i := range 20 {
			writer, reader := first, second
			if i%2 == 1 {
				writer, reader = second, firstDir
			}
			want := fmt.Sprintf("v%d", i)
			_, err := servers.CreateMetadatum(ctx, writer, id, servers.MetadatumOpts{"k": want}).Extract()
			Expect(err).NotTo(HaveOccurred())
			got, err := servers.Metadatum(ctx, reader, id, "k").Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(HaveKeyWithValue("k", want), "round %d", i)
		}
	})

	It("shows a server unlocked through the other replica", func(ctx SpecContext) {
		for i := range 5 {
			Expect(servers.Lock(ctx, second, id).ExtractErr()).To(Succeed())
			s, err := servers.Get(ctx, first, id).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Locked).To(HaveValue(BeTrue()), "round %d", i)
			Expect(servers.Unlock(ctx, first, id).ExtractErr()).To(Succeed())
			s, err = servers.Get(ctx, second, id).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Locked).To(HaveValue(BeFalse()), "round %d", i)
		}
	})

	// started says a server shows an action it was just asked for: its task, or, should the
	// action have finished already, where it leads, never the state before it.
	started := func(s *servers.Server, tasks []string, done string) {
		GinkgoHelper()
		if s.TaskState == "" {
			Expect(s.Status).To(Equal(done), "no task, and not %s yet", done)
			return
		}
		Expect(tasks).To(ContainElement(s.TaskState), "status %s", s.Status)
	}

	It("shows rescue, resize, revertResize and shelve started through the other replica", func(ctx SpecContext) {
		By("rescue through replica 1, read through replica 2")
		_, err := servers.Rescue(ctx, first, id, servers.RescueOpts{}).Extract()
		Expect(err).NotTo(HaveOccurred())
		s, err := servers.Get(ctx, second, id).Extract()
		Expect(err).NotTo(HaveOccurred())
		started(s, []string{"rescuing"}, "RESCUE")
		waitFor(ctx, second, id, "RESCUE")
		Expect(servers.Unrescue(ctx, second, id).ExtractErr()).To(Succeed())
		waitFor(ctx, first, id, "ACTIVE")

		By("resize through replica 2, read through replica 1 (kube-apiserver)")
		Expect(servers.Resize(ctx, second, id, servers.ResizeOpts{FlavorRef: "m1.medium"}).ExtractErr()).To(Succeed())
		s, err = servers.Get(ctx, first, id).Extract()
		Expect(err).NotTo(HaveOccurred())
		started(s, []string{"resize_prep", "resize_migrating", "resize_migrated", "resize_finish"}, "VERIFY_RESIZE")
		waitFor(ctx, first, id, "VERIFY_RESIZE")

		By("revertResize through replica 1, read through replica 2")
		Expect(servers.RevertResize(ctx, first, id).ExtractErr()).To(Succeed())
		s, err = servers.Get(ctx, second, id).Extract()
		Expect(err).NotTo(HaveOccurred())
		started(s, []string{"resize_reverting"}, "ACTIVE")
		s = waitFor(ctx, second, id, "ACTIVE")
		Expect(s.Flavor).To(HaveKeyWithValue("id", flavorRef))

		By("shelve through replica 2, read through replica 1")
		Expect(servers.Shelve(ctx, second, id).ExtractErr()).To(Succeed())
		s, err = servers.Get(ctx, firstDir, id).Extract()
		Expect(err).NotTo(HaveOccurred())
		started(s, []string{"shelving", "shelving_image_pending_upload", "shelving_image_uploading", "shelving_offloading"}, "SHELVED_OFFLOADED")
		waitFor(ctx, firstDir, id, "SHELVED_OFFLOADED")
	}, NodeTimeout(5*time.Minute))
})

// computeAt is a gophercloud compute client for a token on a nova-api's direct endpoint.
func computeAt(token, directURL string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}}}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: directURL + "/v2.1/" + tenantName + "/", Type: "compute"}
}
