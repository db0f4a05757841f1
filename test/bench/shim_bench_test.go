package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

const (
	detailServers = 1000
	detailRounds  = 50
	showRounds    = 200
	bootSamples   = 50
)

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

// shimBench is the fleet and the clients BenchmarkShim measures with.
type shimBench struct {
	ctx    context.Context
	st     *testenv.Stack
	pc     *gophercloud.ProviderClient
	c      *gophercloud.ServiceClient
	token  string
	img    computev1.Image
	net    computev1.Network
	oneURL string
}

// BenchmarkShim measures the REST shim: GET /servers/detail over 1,000 servers beside a
// raw LIST of the same custom resources on kube-apiserver, and POST /servers -> ACTIVE.
func BenchmarkShim(b *testing.B) {
	sb := startShimBench(b)
	defer sb.st.Stop()
	b.ResetTimer()
	for range b.N {
		sb.measureReads(b)
		sb.measureBoots(b)
	}
}

// startShimBench starts the stack, the tenant's fixtures and a fleet of detailServers
// ACTIVE servers made as custom resources (the shim reads whatever is there).
func startShimBench(b *testing.B) *shimBench {
	ctx := context.Background()
	st, err := testenv.StartStack(ctx, 0, novaserver.NovaAPI())
	if err != nil {
		b.Fatal(err)
	}
	sb := &shimBench{ctx: ctx, st: st}
	for _, obj := range testenv.Fixtures("bench", &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
		Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 64, Disk: 1, IsPublic: true}}, "10.9.0.0/16") {
		if err := st.Client.Create(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	tokens, err := st.Tenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	sb.token = tokens["admin"]
	sb.img = untilImageActive(ctx, b, st.Client)
	if err := st.Client.Get(ctx, client.ObjectKey{Namespace: "bench", Name: "private"}, &sb.net); err != nil {
		b.Fatal(err)
	}
	sb.pc = &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: st.DirectCAs, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 32}}}
	sb.pc.SetToken(sb.token)
	sb.c = &gophercloud.ServiceClient{ProviderClient: sb.pc, Endpoint: st.DirectURL + "/v2.1/bench/", Type: "compute"}

	createServers(ctx, b, st.Client, "bench", "d", 0, detailServers)
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list computev1.ServerList
		if err := st.Client.List(ctx, &list, client.InNamespace("bench")); err != nil {
			return false, nil
		}
		active := 0
		for _, s := range list.Items {
			if s.Status.Status == "ACTIVE" {
				active++
			}
		}
		return active == detailServers, nil
	}); err != nil {
		b.Fatal("the fleet never became ACTIVE:", err)
	}
	// One server of the fleet, for GET /servers/{id}.
	var one computev1.Server
	if err := st.Client.Get(ctx, client.ObjectKey{Namespace: "bench", Name: fmt.Sprintf("d-%05d", detailServers/2)}, &one); err != nil {
		b.Fatal(err)
	}
	sb.oneURL = sb.c.ServiceURL("servers", string(one.UID))
	return sb
}

// get times one GET of url through the shim and insists on 200.
func (sb *shimBench) get(url string) (time.Duration, error) {
	start := time.Now()
	req, _ := http.NewRequestWithContext(sb.ctx, http.MethodGet, url, nil)
	req.Header.Set("X-Auth-Token", sb.token)
	resp, err := sb.pc.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return time.Since(start), nil
}

// list times a LIST of the fleet on kube-apiserver: whole objects, or (metadata-only) what a
// consistent list of the shim pays to learn which cached servers are stale.
func (sb *shimBench) list(metadataOnly bool) (time.Duration, error) {
	start := time.Now()
	var l client.ObjectList = &computev1.ServerList{}
	if metadataOnly {
		pl := &metav1.PartialObjectMetadataList{}
		pl.SetGroupVersionKind(computev1.GroupVersion.WithKind("ServerList"))
		l = pl
	}
	err := sb.st.Client.List(sb.ctx, l, client.InNamespace("bench"))
	if n := meta.LenList(l); err == nil && n < detailServers {
		err = fmt.Errorf("LIST (metadata only %v) returned %d servers", metadataOnly, n)
	}
	return time.Since(start), err
}

// sample runs f n times and returns its durations, failing the benchmark on an error.
func sample(b *testing.B, n int, f func() (time.Duration, error)) []time.Duration {
	out := make([]time.Duration, 0, n)
	for range n {
		d, err := f()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// measureReads compares GET /servers/detail with raw and metadata-only LISTs, interleaved
// round by round, and times GET /servers/{id}.
func (sb *shimBench) measureReads(b *testing.B) {
	detailURL := sb.c.ServiceURL("servers", "detail") + "?limit=1000"
	var shim, list, metaOnly []time.Duration
	for range detailRounds {
		shim = append(shim, sample(b, 1, func() (time.Duration, error) { return sb.get(detailURL) })...)
		list = append(list, sample(b, 1, func() (time.Duration, error) { return sb.list(false) })...)
		metaOnly = append(metaOnly, sample(b, 1, func() (time.Duration, error) { return sb.list(true) })...)
	}
	shows := sample(b, showRounds, func() (time.Duration, error) { return sb.get(sb.oneURL) })
	b.ReportMetric(ms(percentile(shim, 0.5)), "detail-p50-ms")
	b.ReportMetric(ms(percentile(shim, 0.99)), "detail-p99-ms")
	b.ReportMetric(ms(percentile(list, 0.5)), "rawlist-p50-ms")
	b.ReportMetric(ms(percentile(list, 0.99)), "rawlist-p99-ms")
	b.ReportMetric(ms(percentile(metaOnly, 0.5)), "metalist-p50-ms")
	b.ReportMetric(ms(percentile(shows, 0.5)), "show-p50-ms")
	b.ReportMetric(ms(percentile(shows, 0.99)), "show-p99-ms")
	b.Logf("GET /servers/detail (%d servers) through the shim: p50 %v p99 %v; raw LIST: p50 %v p99 %v; ratio p50 %.2f",
		detailServers, percentile(shim, 0.5).Round(time.Millisecond), percentile(shim, 0.99).Round(time.Millisecond),
		percentile(list, 0.5).Round(time.Millisecond), percentile(list, 0.99).Round(time.Millisecond),
		float64(percentile(shim, 0.5))/float64(percentile(list, 0.5)))
	b.Logf("metadata-only LIST of the same servers: p50 %v p99 %v; GET /servers/{id}: p50 %v p99 %v",
		percentile(metaOnly, 0.5).Round(100*time.Microsecond), percentile(metaOnly, 0.99).Round(100*time.Microsecond),
		percentile(shows, 0.5).Round(100*time.Microsecond), percentile(shows, 0.99).Round(100*time.Microsecond))
}

// measureBoots times POST /servers -> ACTIVE, one at a time, polled as a client would.
func (sb *shimBench) measureBoots(b *testing.B) {
	boots := make([]time.Duration, 0, bootSamples)
	for i := range bootSamples {
		start := time.Now()
		s, err := servers.Create(sb.ctx, sb.c, servers.CreateOpts{Name: fmt.Sprintf("lat-%d", i), FlavorRef: "m1.tiny",
			ImageRef: string(sb.img.UID), Networks: []servers.Network{{UUID: string(sb.net.UID)}}}, nil).Extract()
		if err != nil {
			b.Fatal(err)
		}
		if err := wait.PollUntilContextTimeout(sb.ctx, 5*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := servers.Get(ctx, sb.c, s.ID).Extract()
			return err == nil && got.Status == "ACTIVE", nil
		}); err != nil {
			b.Fatal(err)
		}
		boots = append(boots, time.Since(start))
	}
	b.ReportMetric(ms(percentile(boots, 0.5)), "boot-p50-ms")
	b.ReportMetric(ms(percentile(boots, 0.99)), "boot-p99-ms")
	b.Logf("POST /servers -> ACTIVE over %d boots: p50 %v p99 %v", bootSamples,
		percentile(boots, 0.5).Round(time.Millisecond), percentile(boots, 0.99).Round(time.Millisecond))
}
