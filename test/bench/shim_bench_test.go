package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
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

// BenchmarkShim measures the REST shim: GET /servers/detail over 1,000 servers beside a
// raw LIST of the same custom resources on kube-apiserver, and POST /servers -> ACTIVE.
func BenchmarkShim(b *testing.B) {
	ctx := context.Background()
	st, err := testenv.StartStack(ctx, 0, novaserver.NovaAPI())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Stop()
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
	var img computev1.Image
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := st.Client.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, &img)
		return err == nil && img.Status.Status == computev1.ImageActive, nil
	}); err != nil {
		b.Fatal(err)
	}
	var net computev1.Network
	if err := st.Client.Get(ctx, client.ObjectKey{Namespace: "bench", Name: "private"}, &net); err != nil {
		b.Fatal(err)
	}

	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: st.DirectCAs, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 32}}}
	pc.SetToken(tokens["admin"])
	c := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: st.DirectURL + "/v2.1/bench/", Type: "compute"}

	// The fleet: created as custom resources (the shim reads whatever is there).
	parallel(b, detailServers, func(i int) error {
		return st.Client.Create(ctx, &computev1.Server{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("d-%04d", i)},
			Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive,
				Networks: []computev1.NetworkAttachment{{Name: "private"}}},
		})
	})
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

	detailURL := c.ServiceURL("servers", "detail") + "?limit=1000"
	get := func() (time.Duration, error) {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, detailURL, nil)
		req.Header.Set("X-Auth-Token", tokens["admin"])
		resp, err := pc.HTTPClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /servers/detail: %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	raw := func() (time.Duration, error) {
		start := time.Now()
		var list computev1.ServerList
		err := st.Client.List(ctx, &list, client.InNamespace("bench"))
		if err == nil && len(list.Items) < detailServers {
			err = fmt.Errorf("raw LIST returned %d servers", len(list.Items))
		}
		return time.Since(start), err
	}

	// One server of the fleet, for GET /servers/{id}.
	var one computev1.Server
	if err := st.Client.Get(ctx, client.ObjectKey{Namespace: "bench", Name: "d-0500"}, &one); err != nil {
		b.Fatal(err)
	}
	showURL := c.ServiceURL("servers", string(one.UID))
	show := func() (time.Duration, error) {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, showURL, nil)
		req.Header.Set("X-Auth-Token", tokens["admin"])
		resp, err := pc.HTTPClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /servers/{id}: %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	// A metadata-only LIST of the same servers: what a consistent list of the shim pays
	// to learn which cached servers are stale.
	metaList := func() (time.Duration, error) {
		start := time.Now()
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(computev1.GroupVersion.WithKind("ServerList"))
		err := st.Client.List(ctx, list, client.InNamespace("bench"))
		if err == nil && len(list.Items) < detailServers {
			err = fmt.Errorf("metadata LIST returned %d servers", len(list.Items))
		}
		return time.Since(start), err
	}

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ResetTimer()
	for range b.N {
		var shim, list, meta, shows []time.Duration
		for range detailRounds {
			d, err := get()
			if err != nil {
				b.Fatal(err)
			}
			shim = append(shim, d)
			d, err = raw()
			if err != nil {
				b.Fatal(err)
			}
			list = append(list, d)
			d, err = metaList()
			if err != nil {
				b.Fatal(err)
			}
			meta = append(meta, d)
		}
		for range showRounds {
			d, err := show()
			if err != nil {
				b.Fatal(err)
			}
			shows = append(shows, d)
		}
		b.ReportMetric(ms(percentile(shim, 0.5)), "detail-p50-ms")
		b.ReportMetric(ms(percentile(shim, 0.99)), "detail-p99-ms")
		b.ReportMetric(ms(percentile(list, 0.5)), "rawlist-p50-ms")
		b.ReportMetric(ms(percentile(list, 0.99)), "rawlist-p99-ms")
		b.ReportMetric(ms(percentile(meta, 0.5)), "metalist-p50-ms")
		b.ReportMetric(ms(percentile(shows, 0.5)), "show-p50-ms")
		b.ReportMetric(ms(percentile(shows, 0.99)), "show-p99-ms")
		b.Logf("GET /servers/detail (%d servers) through the shim: p50 %v p99 %v; raw LIST: p50 %v p99 %v; ratio p50 %.2f",
			detailServers, percentile(shim, 0.5).Round(time.Millisecond), percentile(shim, 0.99).Round(time.Millisecond),
			percentile(list, 0.5).Round(time.Millisecond), percentile(list, 0.99).Round(time.Millisecond),
			float64(percentile(shim, 0.5))/float64(percentile(list, 0.5)))
		b.Logf("metadata-only LIST of the same servers: p50 %v p99 %v; GET /servers/{id}: p50 %v p99 %v",
			percentile(meta, 0.5).Round(100*time.Microsecond), percentile(meta, 0.99).Round(100*time.Microsecond),
			percentile(shows, 0.5).Round(100*time.Microsecond), percentile(shows, 0.99).Round(100*time.Microsecond))

		// POST /servers -> ACTIVE, one at a time, polled as a client would.
		var boots []time.Duration
		var mu sync.Mutex
		for i := range bootSamples {
			start := time.Now()
			s, err := servers.Create(ctx, c, servers.CreateOpts{Name: fmt.Sprintf("lat-%d", i), FlavorRef: "m1.tiny",
				ImageRef: string(img.UID), Networks: []servers.Network{{UUID: string(net.UID)}}}, nil).Extract()
			if err != nil {
				b.Fatal(err)
			}
			if err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
				got, err := servers.Get(ctx, c, s.ID).Extract()
				return err == nil && got.Status == "ACTIVE", nil
			}); err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			boots = append(boots, time.Since(start))
			mu.Unlock()
		}

		b.ReportMetric(ms(percentile(boots, 0.5)), "boot-p50-ms")
		b.ReportMetric(ms(percentile(boots, 0.99)), "boot-p99-ms")
		b.Logf("POST /servers -> ACTIVE over %d boots: p50 %v p99 %v", bootSamples,
			percentile(boots, 0.5).Round(time.Millisecond), percentile(boots, 0.99).Round(time.Millisecond))
	}
}
