package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/testenv"
)

// stepLatency is the simulated time per task step: long enough that every intermediate
// state is written and seen, short enough to walk every action quickly.
const stepLatency = 150 * time.Millisecond

// powerSyncInterval is how often a settled server's instance is read again without an
// event: short, so the periodic sync is seen at work.
const powerSyncInterval = 2 * time.Second

var (
	env     *envtest.Environment
	cfg     *rest.Config
	k8s     client.Client
	creator client.Client // a tenant user bound to kova-creator: not Nova's admin
	mgr     *testenv.Manager
	// mgrOptions start the manager again, on the same simulated hosts, after a restart.
	mgrOptions testenv.ManagerOptions
	history    = &transitions{seen: map[string][]string{}}
	// scheduleClock is the image-schedule controller's: specs step it through days.
	scheduleClock = clocktesting.NewFakePassiveClock(time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)) // a Monday
	suiteCtx      context.Context
	suiteStop     context.CancelFunc
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(20 * time.Millisecond)
	RunSpecs(t, "Controller suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	suiteCtx, suiteStop = context.WithCancel(context.Background())

	env = testenv.NewEnvironment(true)
	var err error
	cfg, err = env.Start()
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.OpenQuotas(suiteCtx, k8s)).To(Succeed())

	stateDir, err := os.MkdirTemp("", "kova-driver-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, stateDir)
	mgrOptions = testenv.ManagerOptions{
		StepLatency: stepLatency, StateDir: stateDir, Webhooks: true,
		PowerSyncInterval: powerSyncInterval, WrapDriver: wrapDriver,
		Clock: scheduleClock, ImageScheduleCheck: 200 * time.Millisecond,
		Hosts: []compute.HostInfo{
			{Name: "sim-host-1", Capacity: compute.Resources{VCPUs: 64, RAMMiB: 262144, DiskGiB: 4000}},
			{Name: "sim-host-2", Capacity: compute.Resources{VCPUs: 64, RAMMiB: 262144, DiskGiB: 4000}},
		},
	}
	mgr, err = testenv.StartManager(env, cfg, mgrOptions)
	Expect(err).NotTo(HaveOccurred())

	applyFile(filepath.Join(testenv.Root(), "config", "rbac", "user_roles.yaml"))
	Expect(k8s.Create(suiteCtx, tenantUserRole)).To(Succeed())
	creatorUser, err := env.AddUser(envtest.User{Name: "alice"}, nil)
	Expect(err).NotTo(HaveOccurred())
	creator, err = client.New(creatorUser.Config(), client.Options{Scheme: env.Scheme})
	Expect(err).NotTo(HaveOccurred())

	createFixtures()
	watchTransitions()
})

var _ = AfterSuite(func() {
	if suiteStop != nil {
		suiteStop()
	}
	if mgr != nil {
		Expect(mgr.Stop()).To(Succeed())
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// whileManagerDown stops the manager, runs do, and starts the manager again on the same
// driver state, as a restart would.
func whileManagerDown(do func()) {
	GinkgoHelper()
	Expect(mgr.Stop()).To(Succeed())
	defer func() {
		var err error
		mgr, err = testenv.StartManager(env, cfg, mgrOptions)
		Expect(err).NotTo(HaveOccurred())
	}()
	do()
}

// applyFile creates every object of a multi-document YAML file.
func applyFile(path string) {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	for _, doc := range bytesSplit(data, "\n---") {
		var role rbacv1.ClusterRole
		Expect(yaml.Unmarshal(doc, &role)).To(Succeed())
		if role.Name == "" {
			continue
		}
		Expect(k8s.Create(suiteCtx, &role)).To(Succeed())
	}
}

// tenantUserRole is what alice may do in the test tenants: edit servers and ask for
// actions with kubectl, but not override locks (she is no Nova admin). The shipped roles
// follow Rackspace's matrix, where only admins act on servers; this one exists to test
// locks against a non-admin.
var tenantUserRole = &rbacv1.ClusterRole{
	ObjectMeta: metav1.ObjectMeta{Name: "kova-test-tenant-user"},
	Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{computev1.GroupVersion.Group},
		Resources: []string{"servers", "serveractions", "keypairs", "images", "networks", "flavors"},
		Verbs:     []string{"get", "list", "watch", "create", "update", "patch"},
	}, {
		// kubectl delete server, whose delete is recorded with her name.
		APIGroups: []string{computev1.GroupVersion.Group},
		Resources: []string{"servers"},
		Verbs:     []string{"delete"},
	}, {
		// The REST calls her spec edits mean, which the admission webhook asks RBAC about.
		APIGroups: []string{computev1.NovaAPIGroup},
		Resources: []string{"servers/action"},
		Verbs:     []string{"create"},
	}, {
		APIGroups: []string{computev1.NovaAPIGroup},
		Resources: []string{"servers/metadata", "servers"},
		Verbs:     []string{"update"},
	}},
}

// tenant makes a namespace where alice is a tenant user (see tenantUserRole).
func tenant(name string) string {
	Expect(k8s.Create(suiteCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	Expect(k8s.Create(suiteCtx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "alice"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tenantUserRole.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
	})).To(Succeed())
	Expect(k8s.Create(suiteCtx, &computev1.Network{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "private"},
		Spec:       computev1.NetworkSpec{CIDR: "10.0.0.0/24"},
	})).To(Succeed())
	return name
}

func createFixtures() {
	Expect(k8s.Create(suiteCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.PublicNamespace}})).To(Succeed())
	for _, f := range []computev1.Flavor{
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"}, Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.small"}, Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 2048, Disk: 20, IsPublic: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.medium"}, Spec: computev1.FlavorSpec{VCPUs: 2, RAM: 4096, Disk: 40, IsPublic: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.huge"}, Spec: computev1.FlavorSpec{VCPUs: 512, RAM: 4 << 20, Disk: 100, IsPublic: true}},
	} {
		Expect(k8s.Create(suiteCtx, &f)).To(Succeed())
	}
	for _, name := range []string{"cirros", "ubuntu"} {
		img := &computev1.Image{
			ObjectMeta: metav1.ObjectMeta{Namespace: testenv.PublicNamespace, Name: name},
			Spec: computev1.ImageSpec{Visibility: "public", Source: computev1.ImageSource{URL: "example.invalid/" + name},
				DiskFormat: "qcow2", ContainerFormat: "bare"},
		}
		Expect(k8s.Create(suiteCtx, img)).To(Succeed())
		Eventually(func() computev1.ImagePhase {
			_ = k8s.Get(suiteCtx, client.ObjectKeyFromObject(img), img)
			return img.Status.Status
		}).Should(Equal(computev1.ImageActive))
	}
	Expect(k8s.Create(suiteCtx, &computev1.Network{
		ObjectMeta: metav1.ObjectMeta{Namespace: testenv.PublicNamespace, Name: "public"},
		Spec:       computev1.NetworkSpec{CIDR: "172.24.4.0/24", Shared: true},
	})).To(Succeed())
}

// transitions records every (status, task) pair each server was seen in, in order, from a
// watch of its own: what a user polling `kubectl get servers` could have seen.
type transitions struct {
	mu   sync.Mutex
	seen map[string][]string
}

func (t *transitions) record(obj any) {
	srv, ok := obj.(*computev1.Server)
	if !ok || srv.Status.Status == "" {
		return
	}
	key := srv.Status.Status + "/" + orNone(srv.Status.TaskState)
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.seen[string(srv.UID)]
	if len(list) == 0 || list[len(list)-1] != key {
		t.seen[string(srv.UID)] = append(list, key)
	}
}

// of returns the states a server went through, in order.
func (t *transitions) of(uid string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.seen[uid]...)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func watchTransitions() {
	c, err := cache.New(cfg, cache.Options{Scheme: env.Scheme})
	Expect(err).NotTo(HaveOccurred())
	inf, err := c.GetInformer(suiteCtx, &computev1.Server{})
	Expect(err).NotTo(HaveOccurred())
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    history.record,
		UpdateFunc: func(_, n any) { history.record(n) },
	})
	Expect(err).NotTo(HaveOccurred())
	go func() { _ = c.Start(suiteCtx) }()
	Expect(c.WaitForCacheSync(suiteCtx)).To(BeTrue())
}
