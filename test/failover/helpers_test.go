package failover

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
)

// allocation is one address the network has given out, and to whom.
type allocation struct {
	Address, ServerUID string
}

// allocations reads where Kova keeps the tenant network's allocations: every address a
// server's status shows (the record the manager's allocator is rebuilt from, see
// internal/ipam) and the count the Network's status shows (the leader's allocator's, written
// in batches about a second apart). The one place that knows how allocations are stored,
// so the leak check follows when that changes.
func allocations(ctx context.Context, c client.Client) ([]allocation, int64) {
	var list computev1.ServerList
	Expect(c.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
	var out []allocation
	for _, s := range list.Items {
		for _, a := range s.Status.Addresses {
			if a.NetworkName == "private" {
				out = append(out, allocation{Address: a.Address, ServerUID: string(s.UID)})
			}
		}
	}
	n := &computev1.Network{}
	Expect(c.Get(ctx, client.ObjectKey{Namespace: tenant, Name: "private"}, n)).To(Succeed())
	return out, n.Status.Allocated
}

// driverState is the hypervisors' state as the replicas left it on disk: the instances,
// and the hosts with what they use. It is read from a copy, since the simulated driver
// tidies the directory it opens and the leader still writes there.
func driverState(ctx context.Context, dir string) ([]string, []compute.HostInfo) {
	tmp, err := os.MkdirTemp("", "kova-failover-driver-")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = os.RemoveAll(tmp) }()
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // destroyed meanwhile
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(tmp, e.Name()), data, 0o600)).To(Succeed())
	}
	hosts, err := compute.ParseHosts(simHosts)
	Expect(err).NotTo(HaveOccurred())
	driver, err := compute.NewSimulated(compute.SimulatedConfig{StateDir: tmp, Hosts: hosts})
	Expect(err).NotTo(HaveOccurred())
	ids, err := driver.List(ctx)
	Expect(err).NotTo(HaveOccurred())
	infos, err := driver.Hosts(ctx)
	Expect(err).NotTo(HaveOccurred())
	return ids, infos
}

// prefixed writes each line of a replica's output with its name, so that the two
// managers' logs can be told apart.
func prefixed(w io.Writer, name string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte("[" + name + "] ")}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append(append([]byte{}, p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
}

// review sends a Server create straight to one replica's validating webhook, as
// kube-apiserver would, by a cluster admin, and returns the webhook's answer.
func review(ctx context.Context, addr string, caData []byte, srv *computev1.Server) *admissionv1.AdmissionResponse {
	GinkgoHelper()
	obj, err := json.Marshal(srv)
	Expect(err).NotTo(HaveOccurred())
	body, err := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("failover-probe"),
			Kind:      metav1.GroupVersionKind{Group: computev1.GroupVersion.Group, Version: computev1.GroupVersion.Version, Kind: "Server"},
			Resource:  metav1.GroupVersionResource{Group: computev1.GroupVersion.Group, Version: computev1.GroupVersion.Version, Resource: "servers"},
			Operation: admissionv1.Create,
			Namespace: srv.Namespace, Name: srv.Name,
			Object:   runtime.RawExtension{Raw: obj},
			UserInfo: authenticationv1.UserInfo{Username: "kova-manager", Groups: []string{"system:masters", "system:authenticated"}},
		},
	})
	Expect(err).NotTo(HaveOccurred())
	cas := x509.NewCertPool()
	Expect(cas.AppendCertsFromPEM(caData)).To(BeTrue())
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: cas, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+"/validate-compute-kova-dev-v1alpha1-server", bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	var out admissionv1.AdmissionReview
	Expect(json.NewDecoder(resp.Body).Decode(&out)).To(Succeed())
	Expect(out.Response).NotTo(BeNil())
	return out.Response
}
