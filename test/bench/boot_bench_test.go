// Package bench measures Kova against the API server it runs on. Run it with `make bench`;
// the figures go in docs/benchmarks.md.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/testenv"
)

const (
	boots       = 1000
	concurrency = 16
)

// writeCounter counts the requests that change something on the API server.
type writeCounter struct {
	next   http.RoundTripper
	writes atomic.Int64
}

func (w *writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		w.writes.Add(1)
	}
	return w.next.RoundTrip(req)
}

// parallel runs n jobs on `concurrency` workers and returns how long they took.
func parallel(b *testing.B, n int, job func(i int) error) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := job(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// createServers creates n Servers in ns at concurrency clients, named prefix-from to
// prefix-(from+n-1), each as a user boots one with kubectl (the fixtures' flavor, image and
// network, powered on), and returns how long the creates took.
func createServers(ctx context.Context, b *testing.B, c client.Client, ns, prefix string, from, n int) time.Duration {
	return parallel(b, n, func(i int) error {
		return c.Create(ctx, &computev1.Server{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%05d", prefix, from+i)},
			Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive,
				Networks: []computev1.NetworkAttachment{{Name: "private"}}},
		})
	})
}

// unlimitedQuota gives ns a Quota of no limits (-1), as an operator raises a project's
// quota for a load test: a benchmark's fleet is larger than a tenant's default quota, and
// an unlimited one reserves nothing, so the boots' writes are those of a tenant without
// limits.
func unlimitedQuota(ctx context.Context, b *testing.B, c client.Client, ns string) {
	unlimited := int64(-1)
	if err := c.Create(ctx, &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: computev1.QuotaName},
		Spec: computev1.QuotaLimits{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBoot boots 1,000 servers with no simulated latency, from create to ACTIVE, and
// creates 1,000 bare custom resources on the same API server for comparison.
func BenchmarkBoot(b *testing.B) {
	ctx := context.Background()
	env := testenv.NewEnvironment(true)
	cfg, err := env.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	// No client-side limit: the baseline is the API server's own rate for bare custom
	// resources, as Kova's clients are unthrottled too (API Priority and Fairness decides).
	cfg.QPS = -1
	k8s, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	counter := &writeCounter{}
	mgr, err := testenv.StartManager(env, cfg, testenv.ManagerOptions{
		Webhooks: true, StateDir: b.TempDir(), Workers: 16,
		Hosts: []compute.HostInfo{
			{Name: "h1", Capacity: compute.Resources{VCPUs: 1024, RAMMiB: 1 << 20, DiskGiB: 1 << 16}},
			{Name: "h2", Capacity: compute.Resources{VCPUs: 1024, RAMMiB: 1 << 20, DiskGiB: 1 << 16}},
		},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = mgr.Stop() }()

	for _, obj := range testenv.Fixtures("bench", &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
		Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}}, "10.8.0.0/16") {
		if err := k8s.Create(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	unlimitedQuota(ctx, b, k8s, "bench")
	untilImageActive(ctx, b, k8s)

	b.ResetTimer()
	for range b.N {
		bare := parallel(b, boots, func(i int) error {
			return k8s.Create(ctx, &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bare-%d-%d", b.N, i)},
				Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, IsPublic: true}})
		})

		active := watchActive(ctx, b, cfg)
		heapBefore := liveHeap()
		writesBefore := counter.writes.Load()
		start := time.Now()
		created := createServers(ctx, b, k8s, "bench", fmt.Sprintf("s-%d", b.N), 0, boots)
		if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
			return active() >= boots, nil
		}); err != nil {
			b.Fatalf("only %d of %d servers became ACTIVE: %v", active(), boots, err)
		}
		booted := time.Since(start)
		writes := counter.writes.Load() - writesBefore
		heapGrowth := float64(liveHeap()-heapBefore) / (1 << 20) * 1000 / boots

		bareRate := float64(boots) / bare.Seconds()
		bootRate := float64(boots) / booted.Seconds()
		b.ReportMetric(bootRate, "servers/s")
		b.ReportMetric(bareRate, "bare-creates/s")
		b.ReportMetric(bootRate/bareRate, "ratio")
		b.ReportMetric(float64(writes)/boots, "writes/boot")
		b.ReportMetric(heapGrowth, "manager-heap-MiB/1000-servers")
		b.Logf("%d bare custom resources created in %v (%.0f/s)", boots, bare.Round(time.Millisecond), bareRate)
		b.Logf("%d servers created in %v, all ACTIVE after %v (%.0f servers/s)", boots, created.Round(time.Millisecond), booted.Round(time.Millisecond), bootRate)
		b.Logf("ratio %.2f; %d API writes by the manager, %.2f per boot", bootRate/bareRate, writes, float64(writes)/boots)
		b.Logf("the manager's live heap grew %.1f MiB per 1,000 servers (in this process, after GC)", heapGrowth)
	}
}

// untilImageActive waits until the fixtures' public image (testenv.Fixtures) is active, and
// returns it.
func untilImageActive(ctx context.Context, b *testing.B, c client.Client) computev1.Image {
	var img computev1.Image
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, &img)
		return err == nil && img.Status.Status == computev1.ImageActive, nil
	}); err != nil {
		b.Fatal("image never became active:", err)
	}
	return img
}

// liveHeap is this process's live heap after a collection: the in-process manager's caches
// and allocations, and little else (watchActive keeps one small map).
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// watchActive counts servers that reached ACTIVE, from a watch of their own: a bare watch,
// not an informer, so the benchmark's process holds no copy of the fleet beside the
// manager's (its heap growth is the manager's).
func watchActive(ctx context.Context, b *testing.B, cfg *rest.Config) func() int {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[types.UID]struct{}{}
	note := func(s *computev1.Server) {
		if s.Status.Status == "ACTIVE" {
			mu.Lock()
			seen[s.UID] = struct{}{}
			mu.Unlock()
		}
	}
	// listThenWatch notes what a LIST shows, then every event of a watch from there, until
	// the watch ends (closed, or an error such as an expired resourceVersion).
	listThenWatch := func() error {
		var list computev1.ServerList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		for i := range list.Items {
			note(&list.Items[i])
		}
		w, err := c.Watch(ctx, &computev1.ServerList{}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			return err
		}
		defer w.Stop()
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*computev1.Server)
			if !ok {
				return nil // an error event: list again
			}
			note(s)
		}
		return nil
	}
	var first computev1.ServerList
	if err := c.List(ctx, &first); err != nil {
		b.Fatal(err)
	}
	for i := range first.Items {
		note(&first.Items[i])
	}
	// Again whenever a watch ends, a tenth of a second later, until ctx ends.
	go wait.UntilWithContext(ctx, func(context.Context) { _ = listThenWatch() }, 100*time.Millisecond)
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
}
