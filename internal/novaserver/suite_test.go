package novaserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

// The suite runs a local control plane with aggregation, the server in-process with a
// stand-in Nova handler, and registers it as APIService v1.nova.kova.dev.
var (
	cp  *localcp.ControlPlane
	k8s client.Client // admin

	secureURL, directURL string
	// tlsClient trusts the server's serving certificate and presents no client certificate.
	tlsClient *http.Client
)

func TestNovaserver(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	EnforceDefaultTimeoutsWhenUsingContexts()
	RunSpecs(t, "novaserver suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(GinkgoWriter, nil)))

	var err error
	cp, err = localcp.Start(ctx, localcp.Options{
		BinDir:      testenv.BinDir(),
		CRDPaths:    []string{filepath.Join(testenv.Root(), "config", "crd", "bases")},
		Aggregation: true,
		// Its namespace controller must cope with the aggregated API registered after it started.
		ControllerManager: true,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cp.Stop)
	k8s, err = client.New(cp.Config, client.Options{Scheme: testenv.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	applyManifests(ctx, filepath.Join(testenv.Root(), "config", "rbac", "user_roles.yaml"), nil)

	secure, direct := listen(), listen()
	securePort := secure.Addr().(*net.TCPAddr).Port
	secureURL, directURL = "https://"+secure.Addr().String(), "https://"+direct.Addr().String()
	certDir := GinkgoT().TempDir()

	caFile, allowed := cp.FrontProxy()
	o := novaserver.LoopbackOptions(secure, direct, certDir, cp.AdminKubeconfig(), caFile, allowed)
	serve(o) // writes the self-signed serving certificate

	caBundle, err := os.ReadFile(novaserver.ServingCertFile(certDir))
	Expect(err).NotTo(HaveOccurred())
	pool := x509.NewCertPool()
	Expect(pool.AppendCertsFromPEM(caBundle)).To(BeTrue())
	tlsClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	Eventually(func() (int, error) {
		return status(do(tlsClient, http.MethodGet, secureURL+"/readyz", nil, nil))
	}).WithContext(ctx).Should(Equal(http.StatusOK), "the informer cache syncs")

	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kova-system"}})).To(Succeed())
	applyManifests(ctx, filepath.Join(testenv.Root(), "config", "apiservice", "apiservice.yaml"), func(u *unstructured.Unstructured) error {
		return novaserver.ConfigureAPIService(u, caBundle, securePort)
	})
	Eventually(apiServiceAvailable).WithContext(ctx).Should(Succeed())
}, NodeTimeout(5*time.Minute))

// apiServiceAvailable succeeds once kube-apiserver marks v1.nova.kova.dev Available.
func apiServiceAvailable(g Gomega, ctx context.Context) {
	svc := &unstructured.Unstructured{}
	svc.SetAPIVersion("apiregistration.k8s.io/v1")
	svc.SetKind("APIService")
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "v1.nova.kova.dev"}, svc)).To(Succeed())
	conditions, _, _ := unstructured.NestedSlice(svc.Object, "status", "conditions")
	g.Expect(conditions).To(ContainElement(And(
		HaveKeyWithValue("type", "Available"), HaveKeyWithValue("status", "True"))), "%v", conditions)
}

func listen() net.Listener {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	return l
}

// applyManifests creates every object of a YAML file, after edit if given.
func applyManifests(ctx context.Context, path string, edit func(*unstructured.Unstructured) error) {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return
		}
		Expect(err).NotTo(HaveOccurred())
		if u.Object == nil {
			continue
		}
		if edit != nil {
			Expect(edit(u)).To(Succeed())
		}
		Expect(k8s.Create(ctx, u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}
}

// tenant creates a namespace with one service account per role, each bound to its
// ClusterRole, and returns their tokens by role name.
func tenant(ctx context.Context, name string) map[string]string {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	tokens := map[string]string{}
	for _, role := range []string{"observer", "creator", "admin"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: role}}
		Expect(k8s.Create(ctx, sa)).To(Succeed())
		bind(ctx, name, "kova-"+role, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: name, Name: role})
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
		Expect(k8s.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
		tokens[role] = tr.Status.Token
	}
	return tokens
}

// readyTenant is a new tenant (see tenant) whose role bindings RBAC already applies:
// kube-apiserver sees new bindings through an informer.
func readyTenant(ctx context.Context) (string, map[string]string) {
	GinkgoHelper()
	ns := uniqTenant()
	tokens := tenant(ctx, ns)
	for _, role := range []string{"observer", "creator", "admin"} {
		Eventually(func() (int, error) {
			return status(do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+"/servers", token(tokens[role]), nil))
		}).WithContext(ctx).Should(Equal(http.StatusOK), role)
	}
	return ns, tokens
}

func bind(ctx context.Context, ns, role string, subject rbacv1.Subject) {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: role + "-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{subject},
	})).To(Succeed())
}

// response is what a test request got back.
type response struct {
	code int
	body []byte
}

func do(c *http.Client, method, url string, header map[string]string, body []byte) (response, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: data}, err
}

func status(r response, err error) (int, error) { return r.code, err }

// serve runs a nova-api server of the stand-in Nova with o until the spec or suite that
// called it ends, and waits for it to stop cleanly then.
func serve(o *novaserver.Options) {
	GinkgoHelper()
	Expect(o.Validate()).To(Succeed())
	cfg, err := o.Config()
	Expect(err).NotTo(HaveOccurred())
	srv, err := cfg.New(standIn())
	Expect(err).NotTo(HaveOccurred())
	serverCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serverCtx) }()
	DeferCleanup(func() {
		stop()
		Eventually(stopped).WithTimeout(time.Minute).Should(Receive(Not(HaveOccurred())))
	})
}
