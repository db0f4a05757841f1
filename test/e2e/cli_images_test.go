package e2e

import (
	"bytes"
	"crypto/md5" //nolint:gosec // Glance's checksum is MD5
	"encoding/hex"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("The openstack CLI on the image API", func() {
	It("creates an image from a file, lists, shows, sets, saves and deletes it", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		file := filepath.Join(dir, "disk.img")
		data := bytes.Repeat([]byte("a disk image\n"), 10000)
		Expect(os.WriteFile(file, data, 0o600)).To(Succeed())
		sum := md5.Sum(data) //nolint:gosec // Glance's checksum

		_, err := openstack(ctx, "creator", "image", "create", "--file", file, "cli-denied")
		Expect(err).To(HaveOccurred(), "creating images is an admin's")

		var created map[string]any
		cliJSON(ctx, "admin", &created, "image", "create", "--file", file, "--disk-format", "qcow2", "--property", "os_distro=cirros", "cli-image")
		// The CLI prints the image as created, before its data went up.
		id := created["id"].(string)

		var list []map[string]any
		cliJSON(ctx, "observer", &list, "image", "list")
		Expect(list).To(ContainElement(And(HaveKeyWithValue("ID", id), HaveKeyWithValue("Name", "cli-image"), HaveKeyWithValue("Status", "active"))))
		Expect(list).To(ContainElement(And(HaveKeyWithValue("Name", "cirros"), HaveKeyWithValue("Status", "active"))), "real statuses, public images too")

		var shown map[string]any
		cliJSON(ctx, "observer", &shown, "image", "show", "cli-image")
		Expect(shown).To(HaveKeyWithValue("status", "active"))
		Expect(shown).To(HaveKeyWithValue("checksum", hex.EncodeToString(sum[:])))
		Expect(shown).To(HaveKeyWithValue("size", BeNumerically("==", len(data))))
		Expect(shown).To(HaveKeyWithValue("disk_format", "qcow2"))

		_, err = openstack(ctx, "observer", "image", "set", "--property", "k=v", id)
		Expect(err).To(HaveOccurred(), "observers may not change images")
		_, err = openstack(ctx, "admin", "image", "set", "--property", "k=v", "--tag", "gold", id)
		Expect(err).NotTo(HaveOccurred())
		cliJSON(ctx, "observer", &shown, "image", "show", id)
		Expect(shown).To(HaveKeyWithValue("tags", ContainElement("gold")))
		Expect(shown["properties"]).To(HaveKeyWithValue("k", "v"))
		Expect(shown["properties"]).To(HaveKeyWithValue("os_distro", "cirros"))

		out := filepath.Join(dir, "saved.img")
		_, err = openstack(ctx, "observer", "image", "save", "--file", out, id)
		Expect(err).NotTo(HaveOccurred())
		Expect(os.ReadFile(out)).To(Equal(data))

		_, err = openstack(ctx, "creator", "image", "delete", id)
		Expect(err).To(HaveOccurred(), "deleting images is an admin's")
		_, err = openstack(ctx, "admin", "image", "delete", id)
		Expect(err).NotTo(HaveOccurred())
		_, err = openstack(ctx, "observer", "image", "show", id)
		Expect(err).To(HaveOccurred())
	})
})
