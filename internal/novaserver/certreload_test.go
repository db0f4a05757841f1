package novaserver_test

import (
	"crypto/tls"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kova-dev/kova/internal/novaserver"
)

// In a cluster nova-api serves the certificate the manager's rotator keeps in a Secret,
// mounted as --tls-cert-file and --tls-private-key-file (config/nova-api): when the kubelet
// brings a renewed one, both ways in must serve it without a restart.
var _ = Describe("The serving certificate from files", func() {
	It("is served again, on both listeners, once the files change", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		write := func() []byte {
			GinkgoHelper()
			certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(novaserver.ServiceDNSName, []net.IP{net.ParseIP("127.0.0.1")}, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(keyFile+".new", keyPEM, 0o600)).To(Succeed())
			Expect(os.WriteFile(certFile+".new", certPEM, 0o600)).To(Succeed())
			Expect(os.Rename(keyFile+".new", keyFile)).To(Succeed())
			Expect(os.Rename(certFile+".new", certFile)).To(Succeed())
			block, _ := pem.Decode(certPEM)
			Expect(block).NotTo(BeNil())
			return block.Bytes
		}
		first := write()

		secure, direct := listen(), listen()
		caFile, allowed := cp.FrontProxy()
		o := novaserver.LoopbackOptions(secure, direct, GinkgoT().TempDir(), cp.AdminKubeconfig(), caFile, allowed)
		o.SecureServing.ServerCert.CertKey.CertFile, o.SecureServing.ServerCert.CertKey.KeyFile = certFile, keyFile
		serve(o)

		// served is the certificate a TLS handshake with addr shows.
		served := func(addr string) func() ([]byte, error) {
			return func() ([]byte, error) {
				conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the certificate is looked at
				if err != nil {
					return nil, err
				}
				defer func() { _ = conn.Close() }()
				return conn.ConnectionState().PeerCertificates[0].Raw, nil
			}
		}
		for _, addr := range []string{secure.Addr().String(), direct.Addr().String()} {
			Eventually(served(addr)).WithContext(ctx).Should(Equal(first), addr)
		}

		second := write()
		Expect(second).NotTo(Equal(first))
		for _, addr := range []string{secure.Addr().String(), direct.Addr().String()} {
			// The files are watched; a missed event is caught by the library's resync (a minute).
			Eventually(served(addr)).WithContext(ctx).WithTimeout(90*time.Second).Should(Equal(second), addr)
		}
	})
})
