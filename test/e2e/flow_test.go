package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// waitFor polls a server until it shows status with no task running.
func waitFor(ctx context.Context, c *gophercloud.ServiceClient, id, status string) *servers.Server {
	GinkgoHelper()
	var s *servers.Server
	Eventually(func(g Gomega) {
		var err error
		s, err = servers.Get(ctx, c, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Status).To(Equal(status), "fault %+v", s.Fault)
		g.Expect(s.TaskState).To(BeEmpty())
	}).Should(Succeed())
	return s
}

func action(ctx context.Context, c *gophercloud.ServiceClient, id string, body map[string]any) error {
	_, err := c.Post(ctx, c.ServiceURL("servers", id, "action"), body, nil, &gophercloud.RequestOpts{OkCodes: []int{200, 202, 204}})
	return err
}

// codeOf is the HTTP status of a gophercloud error.
func codeOf(err error) int {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return e.Actual
	}
	return 0
}

func bodyOf(err error) string {
	var e gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &e) {
		return string(e.Body)
	}
	return ""
}

// flow walks a server's life with gophercloud, through one way in.
func flow(way string) {
	It("boots, walks every action, and deletes a server", func(ctx SpecContext) {
		c := compute(tokens["admin"], way)

		By("listing flavors, images and limits")
		allFlavors, err := flavors.ListDetail(c, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		fl, err := flavors.ExtractFlavors(allFlavors)
		Expect(err).NotTo(HaveOccurred())
		Expect(fl).To(ContainElement(HaveField("ID", "m1.small")))
		imgs := listImages(ctx, c)
		Expect(imgs).To(HaveKey("cirros"))
		lim, err := limits.Get(ctx, c, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(lim.Absolute.TotalInstancesUsed).To(BeNumerically(">=", 0))

		By("booting from a flavor and an image")
		name := "gc-" + way
		created, err := servers.Create(ctx, c, servers.CreateOpts{
			Name: name, FlavorRef: "m1.small", ImageRef: imgs["cirros"],
			Networks: []servers.Network{{UUID: networkID}}, Metadata: map[string]string{"role": "web"},
		}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(created.AdminPass).NotTo(BeEmpty())
		s := waitFor(ctx, c, created.ID, "ACTIVE")
		Expect(s.Name).To(Equal(name))
		Expect(s.Metadata).To(HaveKeyWithValue("role", "web"))
		Expect(s.Addresses).To(HaveKey("private"))

		By("reading addresses and metadata")
		pages, err := servers.ListAddresses(c, s.ID).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		addrs, err := servers.ExtractAddresses(pages)
		Expect(err).NotTo(HaveOccurred())
		Expect(addrs["private"]).To(HaveLen(1))
		md, err := servers.UpdateMetadata(ctx, c, s.ID, servers.MetadataOpts{"tier": "gold"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(md).To(HaveKeyWithValue("tier", "gold"))
		one, err := servers.Metadatum(ctx, c, s.ID, "tier").Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(one).To(HaveKeyWithValue("tier", "gold"))
		Expect(servers.DeleteMetadatum(ctx, c, s.ID, "tier").ExtractErr()).To(Succeed())

		By("walking the actions")
		steps := []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"os-stop": nil}, "SHUTOFF"},
			{map[string]any{"os-start": nil}, "ACTIVE"},
			{map[string]any{"pause": nil}, "PAUSED"},
			{map[string]any{"unpause": nil}, "ACTIVE"},
			{map[string]any{"suspend": nil}, "SUSPENDED"},
			{map[string]any{"resume": nil}, "ACTIVE"},
			{map[string]any{"reboot": map[string]any{"type": "SOFT"}}, "ACTIVE"},
			{map[string]any{"reboot": map[string]any{"type": "HARD"}}, "ACTIVE"},
			{map[string]any{"rescue": nil}, "RESCUE"},
			{map[string]any{"unrescue": nil}, "ACTIVE"},
			{map[string]any{"resize": map[string]any{"flavorRef": "m1.medium"}}, "VERIFY_RESIZE"},
			{map[string]any{"confirmResize": nil}, "ACTIVE"},
			{map[string]any{"resize": map[string]any{"flavorRef": "m1.small"}}, "VERIFY_RESIZE"},
			{map[string]any{"revertResize": nil}, "ACTIVE"},
			{map[string]any{"rebuild": map[string]any{"imageRef": imgs["cirros"]}}, "ACTIVE"},
			{map[string]any{"changePassword": map[string]any{"adminPass": "n3w-Secret"}}, "ACTIVE"},
			{map[string]any{"lock": nil}, "ACTIVE"},
			{map[string]any{"unlock": nil}, "ACTIVE"},
			{map[string]any{"shelve": nil}, "SHELVED_OFFLOADED"},
			{map[string]any{"unshelve": nil}, "ACTIVE"},
		}
		for _, st := range steps {
			Expect(action(ctx, c, s.ID, st.body)).To(Succeed(), "%v", st.body)
			waitFor(ctx, c, s.ID, st.want)
		}
		s = waitFor(ctx, c, s.ID, "ACTIVE")
		Expect(s.Flavor["id"]).To(Equal("m1.medium"), "the revert went back to the confirmed flavor")

		By("createImage makes a new image")
		imageID, err := servers.CreateImage(ctx, c, s.ID, servers.CreateImageOpts{Name: "snap-" + way}).ExtractImageID()
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string {
			return listImageStatus(ctx, c, imageID)
		}).Should(Equal("ACTIVE"))

		By("a refused action is a 409 with the lifecycle's message")
		err = action(ctx, c, s.ID, map[string]any{"unpause": nil})
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(ContainSubstring(fmt.Sprintf(`"Cannot 'unpause' instance %s while it is in vm_state active"`, s.ID)))

		By("bad input is a 400 naming the field")
		_, err = c.Post(ctx, c.ServiceURL("servers"), map[string]any{"server": map[string]any{"name": "x", "imageRef": imgs["cirros"]}}, nil, nil)
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
		Expect(bodyOf(err)).To(ContainSubstring("'flavorRef' is a required property"))
		_, err = servers.Create(ctx, c, servers.CreateOpts{Name: "x", FlavorRef: "nope", ImageRef: imgs["cirros"],
			Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
		Expect(bodyOf(err)).To(ContainSubstring("Flavor nope could not be found."))

		By("a body over the limit is a 413")
		big := strings.Repeat("x", 2<<20)
		_, err = c.Post(ctx, c.ServiceURL("servers"), map[string]any{"server": map[string]any{"name": big}}, nil, nil)
		Expect(codeOf(err)).To(Equal(http.StatusRequestEntityTooLarge))
		Expect(bodyOf(err)).To(ContainSubstring("Request is too large. Larger than max_request_body_size ("))

		By("delete, then 404")
		Expect(servers.Delete(ctx, c, s.ID).ExtractErr()).To(Succeed())
		Eventually(func() int {
			_, err := servers.Get(ctx, c, s.ID).Extract()
			return codeOf(err)
		}).Should(Equal(http.StatusNotFound))
		_, err = servers.Get(ctx, c, s.ID).Extract()
		Expect(bodyOf(err)).To(ContainSubstring(`"itemNotFound"`))
	}, SpecTimeout(5*time.Minute))

	It("imports and generates keypairs; the private key comes back once", func(ctx SpecContext) {
		c := compute(tokens["creator"], way)
		gen, err := keypairs.Create(ctx, c, keypairs.CreateOpts{Name: "gen-" + way}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(gen.PrivateKey).To(ContainSubstring("PRIVATE KEY"))
		got, err := keypairs.Get(ctx, c, "gen-"+way, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.PrivateKey).To(BeEmpty())
		Expect(got.Fingerprint).To(Equal(gen.Fingerprint))
		imp, err := keypairs.Create(ctx, c, keypairs.CreateOpts{Name: "imp-" + way,
			PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(imp.Fingerprint).To(Equal("e0:0a:40:59:33:85:bc:b6:80:2e:68:dc:b5:77:2a:77"))
		_, err = keypairs.Create(ctx, c, keypairs.CreateOpts{Name: "imp-" + way,
			PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(ContainSubstring(fmt.Sprintf("Key pair 'imp-%s' already exists.", way)))
		all, err := keypairs.List(c, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		kps, err := keypairs.ExtractKeyPairs(all)
		Expect(err).NotTo(HaveOccurred())
		Expect(kps).To(ContainElements(HaveField("Name", "gen-"+way), HaveField("Name", "imp-"+way)))
	})

	It("pages through 25 servers ten at a time", func(ctx SpecContext) {
		c := compute(tokens["admin"], way)
		imgs := listImages(ctx, c)
		prefix := "page-" + way + "-"
		for i := range 25 {
			_, err := servers.Create(ctx, c, servers.CreateOpts{Name: fmt.Sprintf("%s%02d", prefix, i), FlavorRef: "m1.tiny",
				ImageRef: imgs["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
		}
		var pageSizes []int
		seen := map[string]bool{}
		Eventually(func(g Gomega) {
			pageSizes, seen = nil, map[string]bool{}
			err := servers.List(c, servers.ListOpts{Name: "^" + prefix, Limit: 10}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
				list, err := servers.ExtractServers(p)
				if err != nil {
					return false, err
				}
				pageSizes = append(pageSizes, len(list))
				for _, s := range list {
					seen[s.ID] = true
				}
				return true, nil
			})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(seen).To(HaveLen(25))
		}).Should(Succeed())
		Expect(pageSizes[:3]).To(Equal([]int{10, 10, 5}))
		for id := range seen {
			Expect(servers.Delete(ctx, c, id).ExtractErr()).To(Succeed())
		}
	}, SpecTimeout(5*time.Minute))

	It("answers 404 for another tenant's server", func(ctx SpecContext) {
		c := compute(tokens["admin"], way)
		imgs := listImages(ctx, c)
		s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "mine", FlavorRef: "m1.tiny", ImageRef: imgs["cirros"],
			Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		other := computeFor(otherTokens["admin"], way, "other")
		_, err = servers.Get(ctx, other, s.ID).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		Expect(servers.Delete(ctx, c, s.ID).ExtractErr()).To(Succeed())
	})
}

// listImages maps image names to ids through the compute API's image proxy.
func listImages(ctx context.Context, c *gophercloud.ServiceClient) map[string]string {
	GinkgoHelper()
	var body struct {
		Images []struct{ ID, Name string } `json:"images"`
	}
	_, err := c.Get(ctx, c.ServiceURL("images"), &body, nil)
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, i := range body.Images {
		out[i.Name] = i.ID
	}
	return out
}

func listImageStatus(ctx context.Context, c *gophercloud.ServiceClient, id string) string {
	var body struct {
		Image struct{ Status string } `json:"image"`
	}
	if _, err := c.Get(ctx, c.ServiceURL("images", id), &body, nil); err != nil {
		return err.Error()
	}
	return body.Image.Status
}

var _ = Describe("The compute API through the direct endpoint", func() { flow("direct") })
var _ = Describe("The compute API through kube-apiserver", func() { flow("aggregated") })
