package e2e

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // Glance's checksum is MD5
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// imageClient is a gophercloud image (Glance v2) client for a token, on the direct
// endpoint's /image.
func imageClient(token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	pc.HTTPClient = http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}}
	pc.SetToken(token)
	endpoint := stack.DirectURL + "/image/"
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, ResourceBase: endpoint + "v2/", Type: "image"}
}

// imageRaw makes one image API request with a token and returns the answer.
func imageRaw(ctx context.Context, token, method, path string, body []byte, header map[string]string) (int, []byte) {
	GinkgoHelper()
	code, _, b := rawAt(ctx, &imageClient(token).HTTPClient, token, method, stack.DirectURL+"/image"+path, body, header)
	return code, b
}

// imageObject is the Image object whose id is id, as kubectl sees it.
func imageObject(ctx SpecContext, id string) *computev1.Image {
	GinkgoHelper()
	var list computev1.ImageList
	Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
	for i := range list.Items {
		if string(list.Items[i].UID) == id {
			return &list.Items[i]
		}
	}
	return nil
}

var _ = Describe("The image API (Glance v2 at /image)", func() {
	It("creates, uploads, downloads, updates, lists and deletes an image with gophercloud, under the matrix", func(ctx SpecContext) {
		admin, observer, creator := imageClient(tokens["admin"]), imageClient(tokens["observer"]), imageClient(tokens["creator"])
		protected := true

		_, err := images.Create(ctx, creator, images.CreateOpts{Name: "denied"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden), "creating images is an admin's")

		img, err := images.Create(ctx, admin, images.CreateOpts{Name: "gc-image", DiskFormat: "raw", ContainerFormat: "bare",
			Tags: []string{"one"}, Protected: &protected, Properties: map[string]string{"os_distro": "cirros"}}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(img.Status).To(Equal(images.ImageStatusQueued))
		Expect(img.Properties).To(HaveKeyWithValue("os_distro", "cirros"))
		Expect(img.Owner).To(Equal(tenantName))

		By("read at once by another user (read-your-writes is the API server's)")
		got, err := images.Get(ctx, observer, img.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Name).To(Equal("gc-image"))
		Expect(got.Status).To(Equal(images.ImageStatusQueued))

		By("no data yet: 204")
		code, _ := imageRaw(ctx, tokens["observer"], http.MethodGet, "/v2/images/"+img.ID+"/file", nil, nil)
		Expect(code).To(Equal(http.StatusNoContent))

		By("upload: observers may not, admins may; Glance's hashes")
		data := bytes.Repeat([]byte("kova image data\n"), 4096)
		Expect(codeOf(imagedata.Upload(ctx, observer, img.ID, bytes.NewReader(data)).ExtractErr())).To(Equal(http.StatusForbidden))
		Expect(imagedata.Upload(ctx, admin, img.ID, bytes.NewReader(data)).ExtractErr()).To(Succeed())
		got, err = images.Get(ctx, observer, img.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		sum, hash := md5.Sum(data), sha512.Sum512(data) //nolint:gosec // Glance's checksum
		Expect(got.Status).To(Equal(images.ImageStatusActive))
		Expect(got.SizeBytes).To(Equal(int64(len(data))))
		Expect(got.Checksum).To(Equal(hex.EncodeToString(sum[:])))
		Expect(got.Properties).To(HaveKeyWithValue("os_hash_algo", "sha512"))
		Expect(got.Properties).To(HaveKeyWithValue("os_hash_value", hex.EncodeToString(hash[:])))
		Expect(codeOf(imagedata.Upload(ctx, admin, img.ID, bytes.NewReader(data)).ExtractErr())).To(Equal(http.StatusConflict),
			"an active image takes no second upload")

		r, err := imagedata.Download(ctx, observer, img.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		back, err := io.ReadAll(r)
		_ = r.Close()
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(Equal(data))
		Expect(filepath.Join(stack.ImageStoreDir, img.ID)).To(BeAnExistingFile())

		By("update: name, a property, tags; observers may not")
		_, err = images.Update(ctx, observer, img.ID, images.UpdateOpts{images.ReplaceImageName{NewName: "x"}}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		upd, err := images.Update(ctx, admin, img.ID, images.UpdateOpts{
			images.ReplaceImageName{NewName: "gc-renamed"},
			images.UpdateImageProperty{Op: images.AddOp, Name: "os_version", Value: "0.6"},
			images.ReplaceImageTags{NewTags: []string{"one", "two"}},
		}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(upd.Name).To(Equal("gc-renamed"))
		Expect(upd.Tags).To(ConsistOf("one", "two"))
		Expect(upd.Properties).To(HaveKeyWithValue("os_version", "0.6"))
		_, err = images.Update(ctx, admin, img.ID, images.UpdateOpts{images.ReplaceImageChecksum{Checksum: "x"}}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden), "checksum is read-only")

		By("the same object through kubectl and Nova's image proxy (properties are its metadata)")
		obj := imageObject(ctx, img.ID)
		Expect(obj).NotTo(BeNil())
		Expect(obj.Spec.Metadata).To(HaveKeyWithValue("os_version", "0.6"))
		Expect(obj.Spec.Tags).To(ConsistOf("one", "two"))
		code, meta := getJSON(ctx, tokens["observer"], "direct", "2.1", "/images/"+img.ID+"/metadata")
		Expect(code).To(Equal(http.StatusOK))
		Expect(meta["metadata"]).To(HaveKeyWithValue("os_distro", "cirros"))
		code, shown := getJSON(ctx, tokens["observer"], "direct", "2.1", "/images/"+img.ID)
		Expect(code).To(Equal(http.StatusOK))
		Expect(shown["image"]).To(HaveKeyWithValue("status", "ACTIVE"))

		By("list: filters and pages with Glance's next links")
		var names []string
		Expect(images.List(observer, images.ListOpts{Tags: []string{"two"}}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			list, err := images.ExtractImages(p)
			for _, i := range list {
				names = append(names, i.Name)
			}
			return true, err
		})).To(Succeed())
		Expect(names).To(Equal([]string{"gc-renamed"}))
		all, err := images.List(observer, images.ListOpts{}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		full, err := images.ExtractImages(all)
		Expect(err).NotTo(HaveOccurred())
		pages := 0
		var paged []string
		Expect(images.List(observer, images.ListOpts{Limit: 1}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			list, err := images.ExtractImages(p)
			pages++
			for _, i := range list {
				paged = append(paged, i.ID)
			}
			return true, err
		})).To(Succeed())
		Expect(paged).To(HaveLen(len(full)))
		Expect(pages).To(BeNumerically(">=", len(full)))
		Expect(full).To(ContainElement(HaveField("Name", "cirros")), "public images are listed")

		By("delete: creators may not; a protected image is refused; then its data goes with it")
		Expect(codeOf(images.Delete(ctx, creator, img.ID).ExtractErr())).To(Equal(http.StatusForbidden))
		Expect(codeOf(images.Delete(ctx, admin, img.ID).ExtractErr())).To(Equal(http.StatusForbidden))
		_, err = images.Update(ctx, admin, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(images.Delete(ctx, admin, img.ID).ExtractErr()).To(Succeed())
		_, err = images.Get(ctx, observer, img.ID).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		_, statErr := os.Stat(filepath.Join(stack.ImageStoreDir, img.ID))
		Expect(os.IsNotExist(statErr)).To(BeTrue(), "the image's data is gone")
	})

	It("leaves a failed upload queued with no data, and refuses what Glance refuses in Glance's words", func(ctx SpecContext) {
		admin := imageClient(tokens["admin"])
		img, err := images.Create(ctx, admin, images.CreateOpts{Name: "broken-upload"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = images.Delete(ctx, admin, img.ID).ExtractErr() })

		code, body := imageRaw(ctx, tokens["admin"], http.MethodPut, "/v2/images/"+img.ID+"/file", []byte("x"),
			map[string]string{"Content-Type": "application/json"})
		Expect(code).To(Equal(http.StatusUnsupportedMediaType), string(body))

		code, body = imageRaw(ctx, tokens["admin"], http.MethodPatch, "/v2/images/"+img.ID,
			[]byte(`[{"op": "replace", "path": "/status", "value": "active"}]`),
			map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch", "Accept": "application/json"})
		Expect(code).To(Equal(http.StatusForbidden))
		Expect(string(body)).To(MatchJSON(`{"message": "Attribute 'status' is read-only.<br /><br />\n\n\n", "code": "403 Forbidden", "title": "Forbidden"}`))
		code, body = imageRaw(ctx, tokens["admin"], http.MethodPatch, "/v2/images/"+img.ID,
			[]byte(`[{"op": "remove", "path": "/nope"}]`), map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"})
		Expect(code).To(Equal(http.StatusConflict))
		Expect(string(body)).To(ContainSubstring("Property nope does not exist."))
		code, body = imageRaw(ctx, tokens["admin"], http.MethodPost, "/v2/images", []byte(`{"name": "p", "visibility": "public"}`), nil)
		Expect(code).To(Equal(http.StatusForbidden))
		Expect(string(body)).To(ContainSubstring("You are not authorized to complete publicize_image action."))
		code, body = imageRaw(ctx, tokens["admin"], http.MethodGet, "/v2/images/00000000-0000-4000-8000-000000000000", nil, nil)
		Expect(code).To(Equal(http.StatusNotFound))
		Expect(string(body)).To(ContainSubstring("No image found with ID 00000000-0000-4000-8000-000000000000"))

		By("an upload that breaks off: queued again, nothing stored")
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, stack.DirectURL+"/image/v2/images/"+img.ID+"/file",
			io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), failingReader{}))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("X-Auth-Token", tokens["admin"])
		req.Header.Set("Content-Type", "application/octet-stream")
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
		if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
			_ = resp.Body.Close()
		}
		Eventually(func(g Gomega) {
			// Queued again after saving: the status was written since the image was made.
			obj := imageObject(ctx, img.ID)
			g.Expect(obj).NotTo(BeNil())
			g.Expect(obj.Status.Status).To(Equal(computev1.ImageQueued))
			g.Expect(obj.Status.Updated).NotTo(BeNil())
			got, err := images.Get(ctx, admin, img.ID).Extract()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Status).To(Equal(images.ImageStatusQueued))
		}).Should(Succeed())
		entries, err := os.ReadDir(stack.ImageStoreDir)
		Expect(err).NotTo(HaveOccurred())
		for _, e := range entries {
			Expect(e.Name()).NotTo(ContainSubstring(img.ID), "no data, whole or partial")
		}
		Expect(imagedata.Upload(ctx, admin, img.ID, bytes.NewReader([]byte("again"))).ExtractErr()).To(Succeed(), "a failed upload may be tried again")
	})
})

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
