package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

const (
	tenant   = "demo"
	public   = "kova-public"
	root     = "http://127.0.0.1:8774/v2.1/demo"
	imageUID = "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10"
	netUID   = "1f546ca2-c463-44f0-a23e-1de19edf2bba"
)

// base is when the fixtures were made; every timestamp is relative to it.
var base = time.Date(2026, 11, 22, 12, 36, 40, 0, time.UTC)

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := computev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeAdmins makes the named users the cloud operator.
type fakeAdmins struct {
	users map[string]bool
	asked int
}

func (a *fakeAdmins) IsAdmin(_ context.Context, u user.Info) (bool, error) {
	a.asked++
	return a.users[u.GetName()], nil
}

// env is one API under test, over a fake client used as both client and cache.
type env struct {
	t       *testing.T
	c       client.WithWatch
	h       http.Handler
	admins  *fakeAdmins
	user    string
	version string
	root    string
	tenant  string // the caller's tenant: "" for demo
}

// newEnv builds an API over objs. The fake client plays the API server: it stamps a uid
// and creation time on what is created.
func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	return newEnvWith(t, nil, objs...)
}

// newEnvWith is newEnv with a Patch interceptor, to play races and webhooks.
func newEnvWith(t *testing.T, patch func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error, objs ...client.Object) *env {
	t.Helper()
	return newEnvIntercepted(t, interceptor.Funcs{Patch: patch}, objs...)
}

// newEnvIntercepted is newEnv with the client's calls intercepted by funcs (all but Create,
// which stamps a uid and creation time).
func newEnvIntercepted(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) *env {
	t.Helper()
	funcs.Create = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		if obj.GetUID() == "" {
			obj.SetUID(types.UID(uuid.NewString()))
		}
		if ts := obj.GetCreationTimestamp(); ts.IsZero() {
			obj.SetCreationTimestamp(metav1.NewTime(time.Now().Truncate(time.Second)))
		}
		return c.Create(ctx, obj, opts...)
	}
	b := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithStatusSubresource(&computev1.Server{}, &computev1.ServerAction{}, &computev1.Image{},
			&computev1.Keypair{}, &computev1.Network{}).
		WithObjects(objs...).
		WithInterceptorFuncs(funcs)
	for _, fi := range append(fieldIndexes(), selectableFields()...) {
		b = b.WithIndex(fi.obj, fi.field, fi.fn)
	}
	c := b.Build()
	admins := &fakeAdmins{users: map[string]bool{"admin": true}}
	e := &env{t: t, c: c, admins: admins, user: "demo", root: root}
	e.h = New(Config{Client: c, Cache: c, ServerUIDs: listedUIDs{c}, Admins: admins, PublicNamespace: public})
	return e
}

type response struct {
	*httptest.ResponseRecorder
	t *testing.T
}

// do sends a request as the env's user and microversion.
func (e *env) do(method, path, body string, headers ...string) *response {
	e.t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if e.version != "" {
		r.Header.Set(headerLegacyAPIVersion, e.version)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	ten := tenant
	if e.tenant != "" {
		ten = e.tenant
	}
	r = r.WithContext(WithCaller(r.Context(), Caller{User: &user.DefaultInfo{Name: e.user}, Tenant: ten, Root: e.root}))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return &response{ResponseRecorder: w, t: e.t}
}

// in returns a copy of e whose caller is in another tenant.
func (e *env) in(tenantName string) *env {
	c := *e
	c.tenant = tenantName
	return &c
}

// as returns a copy of e for another user or microversion.
func (e *env) as(userName, version string) *env {
	c := *e
	c.user, c.version = userName, version
	return &c
}

func (r *response) object() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &m); err != nil {
		r.t.Fatalf("body is not a JSON object: %v: %s", err, r.Body.String())
	}
	return m
}

// expect checks the status code.
func (r *response) expect(code int) *response {
	r.t.Helper()
	if r.Code != code {
		r.t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body.String())
	}
	return r
}

// expectFault checks a Nova error body: status, key and exact message.
func (r *response) expectFault(code int, key, msg string) {
	r.t.Helper()
	r.expect(code)
	if ct := r.Header().Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		r.t.Errorf("error Content-Type %q", ct)
	}
	m := r.object()
	f, ok := m[key].(map[string]any)
	if !ok || len(m) != 1 {
		r.t.Fatalf("body %s, want a %q fault", r.Body.String(), key)
	}
	if f["code"] != float64(code) || f["message"] != msg {
		r.t.Errorf("fault %v\n want code %d message %q", f, code, msg)
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// sampleKeys are the keys of an object in a recorded Nova sample, at a JSON path.
func sampleKeys(t *testing.T, file string, path ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/work/shared/nova-peer/samples", file))
	if err != nil {
		t.Skipf("sample %s not available: %v", file, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return keysOf(m)
}

// --- fixtures ---

func flavor(name, display string, vcpus int32, ram, disk int64) *computev1.Flavor {
	return &computev1.Flavor{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uuid.NewString()), CreationTimestamp: metav1.NewTime(base)},
		Spec:       computev1.FlavorSpec{Name: display, VCPUs: vcpus, RAM: ram, Disk: disk, IsPublic: true},
	}
}

// devstackFlavors are the nova-peer's flavors.
func devstackFlavors() []client.Object {
	return []client.Object{
		flavor("1", "m1.tiny", 1, 512, 1),
		flavor("2", "m1.small", 1, 2048, 20),
		flavor("3", "m1.medium", 2, 4096, 40),
		flavor("4", "m1.large", 4, 8192, 80),
		flavor("42", "m1.nano", 1, 128, 1),
		flavor("5", "m1.xlarge", 8, 16384, 160),
		flavor("84", "m1.micro", 1, 192, 1),
	}
}

func cirros() *computev1.Image {
	return &computev1.Image{
		ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: "cirros", UID: imageUID, CreationTimestamp: metav1.NewTime(base.Add(-time.Second))},
		Spec: computev1.ImageSpec{Name: "cirros-0.6.2-x86_64-disk", Source: computev1.ImageSource{URL: "docker://cirros"},
			DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: "public"},
		Status: computev1.ImageStatus{Status: computev1.ImageActive, SizeBytes: 196624},
	}
}

func network() *computev1.Network {
	return &computev1.Network{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "net1", UID: netUID, CreationTimestamp: metav1.NewTime(base)},
		Spec:       computev1.NetworkSpec{Label: "private", CIDR: "10.0.0.0/24"},
	}
}

// server is an ACTIVE server in the demo tenant, as the controller leaves it.
func server(name, uid string, created time.Time) *computev1.Server {
	launched := metav1.NewTime(created.Add(time.Second))
	return &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID(uid), CreationTimestamp: metav1.NewTime(created),
			Generation: 1, Annotations: map[string]string{annUserID: "demo"}},
		Spec: computev1.ServerSpec{Name: "peer-" + name, FlavorRef: "1", ImageRef: "cirros", KeyName: "kp-demo",
			PowerState: computev1.PowerActive, Metadata: map[string]string{"role": "demo"}},
		Status: computev1.ServerStatus{
			ObservedGeneration: 1,
			Status:             lifecycle.StatusActive, VMState: string(lifecycle.VMActive), PowerState: int32(lifecycle.PowerRunning),
			Flavor: "1", Image: "cirros", ImageUID: imageUID, Host: "host-a", HostID: "69b4348c891bda9b1bd486d3b5c0613937a1bfd6871af8b5e58f2747",
			LaunchedAt: &launched, Updated: &launched,
		},
	}
}

// inState sets a server's observed state.
func inState(srv *computev1.Server, vm lifecycle.VMState, task lifecycle.TaskState, power lifecycle.PowerState) *computev1.Server {
	srv.Status.VMState, srv.Status.TaskState, srv.Status.PowerState = string(vm), string(task), int32(power)
	srv.Status.Status = lifecycle.Status(vm, task)
	switch vm {
	case lifecycle.VMStopped:
		srv.Spec.PowerState = computev1.PowerStopped
	case lifecycle.VMPaused:
		srv.Spec.PowerState = computev1.PowerPaused
	case lifecycle.VMSuspended:
		srv.Spec.PowerState = computev1.PowerSuspended
	case lifecycle.VMShelved, lifecycle.VMShelvedOffloaded:
		srv.Spec.PowerState = computev1.PowerShelved
	case lifecycle.VMRescued:
		srv.Spec.Rescue = true
	}
	return srv
}

const srvUID = "c0ebacfb-4070-42f9-bbb2-8a08cdfee89e"

// standard is the usual world: flavors, the public image, a tenant network, a keypair.
func standard(extra ...client.Object) []client.Object {
	objs := devstackFlavors()
	objs = append(objs, cirros(), network(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
		&computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "kp-demo", UID: "kp-uid-1", CreationTimestamp: metav1.NewTime(base)},
			Spec: computev1.KeypairSpec{Type: "ssh", UserID: "demo", PublicKey: testPublicKey}})
	return append(objs, extra...)
}

const testPublicKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCv/R+F2acOQ4dbGdxTLabqJy1DlBIqT21RzJVGpT/se3vcvdqtZ4SZUvatSYjsJboeWR/ZnxLQvgb3rvLaiL0W2EH+ai9IjBU+cRfbL+nl1E2w3ztc+jwi0ZP0j504dT5SpzrQCNEpLeZuqyXppVKJvMJEf42+wRpJv3TIAD47cNFwAHCeX+H9v8Vx8jeURynw1tSKD/gT/XhEGXxR7pm3IHXdPovdBzemeWPkKKzKDRo5hzAtG1a/XctqyjkbRBRrnvnqZ9abbaNw/Qv7buFOVQfsubY2ULh9ZlYLqqWugS7XUts8+rK9b+ULLLRzi1G8I/ICZaOrr94oy1FKDbpP Generated-by-Nova"

func (e *env) getServer(name string) *computev1.Server {
	e.t.Helper()
	srv := &computev1.Server{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: name}, srv); err != nil {
		e.t.Fatal(err)
	}
	return srv
}

func (e *env) serverActions() []computev1.ServerAction {
	e.t.Helper()
	var list computev1.ServerActionList
	if err := e.c.List(context.Background(), &list, client.InNamespace(tenant)); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}
