package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

// The REST rows of issue 11's table, each runnable alone (-bench Name):
//
//   - BenchmarkShimBootRatio: 1,000 boots at 16 clients through POST /servers against
//     1,000 Server objects created at 16 clients, both to ACTIVE, on one stack;
//   - BenchmarkShimStop: os-stop until GET /servers/{id} shows SHUTOFF, 8 clients;
//   - BenchmarkShimDetailWalk: GET /servers/detail walked page by page (Nova's 1,000 per
//     page) at 10,000 servers against a raw LIST of them, and a page's cost at 1,000
//     servers against at 10,000.

const (
	ratioBoots    = 1000
	stopClients   = 8
	stopsPerSrv   = 25
	walkSmall     = 1000
	walkLarge     = 10000
	walkRounds    = 5
	pollInterval  = 5 * time.Millisecond
	restBenchTime = 10 * time.Minute
)

// restTenant is one tenant of a REST benchmark: its fixtures, gophercloud client and ids.
type restTenant struct {
	name  string
	token string
	c     *gophercloud.ServiceClient
	img   string // image id
	net   string // network id
}

// restStack is the stack a REST benchmark runs on, with an unthrottled admin client for
// the kubectl path (the benchmark measures Kova, not a client's own limit).
type restStack struct {
	ctx context.Context
	st  *testenv.Stack
	k8s client.Client
}

func startRestStack(b *testing.B) *restStack {
	ctx := context.Background()
	st, err := testenv.StartStack(ctx, 0, novaserver.NovaAPI())
	if err != nil {
		b.Fatal(err)
	}
	return restStackOn(ctx, b, st)
}

// restStackOn is the restStack of st, with an unthrottled client of its API server.
func restStackOn(ctx context.Context, b *testing.B, st *testenv.Stack) *restStack {
	cfg := rest.CopyConfig(st.CP.Config)
	cfg.QPS = -1
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		st.Stop()
		b.Fatal(err)
	}
	return &restStack{ctx: ctx, st: st, k8s: k8s}
}

// startProcessRestStack is startRestStack on testenv's process stack: the manager and
// nova-api each their own process, with the manifests' GOGC, as a deployment runs them, so
// that nova-api's collector marks its own heap and not the manager's caches too.
func startProcessRestStack(b *testing.B) *restStack {
	ctx := context.Background()
	ps, err := testenv.StartProcessStack(ctx, testenv.ProcessStackOptions{SimHosts: bigHosts, GoGC: "50"})
	if err != nil {
		b.Fatal(err)
	}
	return restStackOn(ctx, b, ps.Stack)
}

// tenant makes a tenant with the fixtures to boot in (network on cidr) and an admin's
// gophercloud client on the direct endpoint.
func (rs *restStack) tenant(b *testing.B, name, cidr string) *restTenant {
	for _, obj := range testenv.Fixtures(name, &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
		Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 64, Disk: 1, IsPublic: true}}, cidr) {
		if err := client.IgnoreAlreadyExists(rs.k8s.Create(rs.ctx, obj)); err != nil {
			b.Fatal(err)
		}
	}
	tokens, err := rs.st.Tenant(rs.ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	t := &restTenant{name: name, token: tokens["admin"]}
	img := untilImageActive(rs.ctx, b, rs.k8s)
	var net computev1.Network
	if err := rs.k8s.Get(rs.ctx, client.ObjectKey{Namespace: name, Name: "private"}, &net); err != nil {
		b.Fatal(err)
	}
	t.img, t.net = string(img.UID), string(net.UID)
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: rs.st.DirectCAs, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 32}}}
	pc.SetToken(t.token)
	t.c = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: rs.st.DirectURL + "/v2.1/" + name + "/", Type: "compute"}
	return t
}

// kubectlBoot creates n Server objects in tenant at 16 clients, named prefix-i.
func (rs *restStack) kubectlBoot(b *testing.B, tenant, prefix string, n int) {
	createServers(rs.ctx, b, rs.k8s, tenant, prefix, 0, n)
}

// restBoot boots n servers through POST /servers at 16 clients; it returns the POSTs'
// latencies.
func (t *restTenant) restBoot(b *testing.B, ctx context.Context, prefix string, n int) []time.Duration {
	var mu sync.Mutex
	posts := make([]time.Duration, 0, n)
	parallel(b, n, func(i int) error {
		start := time.Now()
		_, err := servers.Create(ctx, t.c, servers.CreateOpts{Name: fmt.Sprintf("%s-%05d", prefix, i), FlavorRef: "m1.tiny",
			ImageRef: t.img, Networks: []servers.Network{{UUID: t.net}}}, nil).Extract()
		mu.Lock()
		posts = append(posts, time.Since(start))
		mu.Unlock()
		return err
	})
	return posts
}

// untilActive waits until active() counts want servers.
func untilActive(b *testing.B, ctx context.Context, active func() int, want int) {
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, restBenchTime, true, func(context.Context) (bool, error) {
		return active() >= want, nil
	}); err != nil {
		b.Fatalf("only %d of %d servers became ACTIVE: %v", active(), want, err)
	}
}

// BenchmarkShimBootRatio: REST boots per second against kubectl-path boots per second,
// 1,000 each at 16 clients, create to ACTIVE, in the order kubectl, REST, REST, kubectl so
// that a drift with the fleet's growth weighs on both alike.
func BenchmarkShimBootRatio(b *testing.B) {
	rs := startRestStack(b)
	defer rs.st.Stop()
	kube := rs.tenant(b, "kube", "10.10.0.0/16")
	restT := rs.tenant(b, "rest", "10.11.0.0/16")
	active := watchActive(rs.ctx, b, rs.st.CP.Config)
	b.ResetTimer()
	for n := range b.N {
		var kubeTime, restTime time.Duration
		var posts []time.Duration
		for round, way := range []string{"kubectl", "rest", "rest", "kubectl"} {
			before := active()
			start := time.Now()
			prefix := fmt.Sprintf("r%d-%d", n, round)
			if way == "kubectl" {
				rs.kubectlBoot(b, kube.name, prefix, ratioBoots)
			} else {
				posts = append(posts, restT.restBoot(b, rs.ctx, prefix, ratioBoots)...)
			}
			untilActive(b, rs.ctx, active, before+ratioBoots)
			took := time.Since(start)
			b.Logf("%s: %d servers ACTIVE in %v (%.0f/s)", way, ratioBoots, took.Round(time.Millisecond), ratioBoots/took.Seconds())
			if way == "kubectl" {
				kubeTime += took
			} else {
				restTime += took
			}
		}
		kubeRate, restRate := 2*ratioBoots/kubeTime.Seconds(), 2*ratioBoots/restTime.Seconds()
		b.ReportMetric(restRate, "rest-boots/s")
		b.ReportMetric(kubeRate, "kubectl-boots/s")
		b.ReportMetric(restRate/kubeRate, "rest/kubectl")
		b.ReportMetric(ms(percentile(posts, 0.5)), "post-p50-ms")
		b.ReportMetric(ms(percentile(posts, 0.99)), "post-p99-ms")
		b.Logf("REST %.0f boots/s, kubectl path %.0f boots/s: ratio %.2f; POST /servers p50 %v p99 %v",
			restRate, kubeRate, restRate/kubeRate, percentile(posts, 0.5).Round(time.Millisecond), percentile(posts, 0.99).Round(time.Millisecond))
	}
}

// serverView is the part of GET /servers/{id} the stop benchmark looks at.
type serverView struct {
	Server struct {
		Status string  `json:"status"`
		Task   *string `json:"OS-EXT-STS:task_state"`
	} `json:"server"`
}

// getJSON GETs url through the shim with t's token into out (when not nil), insisting on 200.
func (t *restTenant) getJSON(ctx context.Context, u string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("X-Auth-Token", t.token)
	req.Header.Set("X-OpenStack-Nova-API-Version", "2.1")
	resp, err := t.c.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// untilShown polls GET /servers/{id} until it shows status with no task.
func (t *restTenant) untilShown(ctx context.Context, id, status string) error {
	u := t.c.ServiceURL("servers", id)
	return wait.PollUntilContextTimeout(ctx, pollInterval, time.Minute, true, func(ctx context.Context) (bool, error) {
		var v serverView
		if err := t.getJSON(ctx, u, &v); err != nil {
			return false, err
		}
		return v.Server.Status == status && v.Server.Task == nil, nil
	})
}

// BenchmarkShimStop: 8 clients, each with a server of its own, stop it (os-stop) until
// GET /servers/{id} shows SHUTOFF with no task, then start it again (not timed) until it
// shows ACTIVE; 25 stops each, twice: first polling GET /servers/{id} every 5 ms, then
// (the "watched" figures) waiting on a watch of the servers before one GET that shows it.
// The polls of 8 clients every 5 ms are themselves most of the load (about 1,600 GETs a
// second through the shim, each one past its cache); a client polls every second or two
// (gophercloud, the openstack CLI, Tempest), so the watched round is the stop's own time.
func BenchmarkShimStop(b *testing.B) {
	rs := startRestStack(b)
	defer rs.st.Stop()
	t := rs.tenant(b, "stop", "10.12.0.0/16")
	ids := make([]string, stopClients)
	for i := range ids {
		s, err := servers.Create(rs.ctx, t.c, servers.CreateOpts{Name: fmt.Sprintf("stop-%d", i), FlavorRef: "m1.tiny",
			ImageRef: t.img, Networks: []servers.Network{{UUID: t.net}}}, nil).Extract()
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = s.ID
	}
	for _, id := range ids {
		if err := t.untilShown(rs.ctx, id, "ACTIVE"); err != nil {
			b.Fatal(err)
		}
	}
	writes, err := watchWrites(rs.ctx, rs.st.CP.Config, t.name)
	if err != nil {
		b.Fatal(err)
	}
	defer writes.stop()
	k, err := kubernetes.NewForConfig(rs.st.CP.Config)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for _, watched := range []bool{false, true} {
			// shown waits until GET /servers/{id} shows status, by polls or, watched, after
			// the watch has seen it.
			shown := func(id, status string, since time.Time) error {
				if watched {
					if _, err := writes.untilShown(rs.ctx, id, status, since); err != nil {
						return err
					}
				}
				return t.untilShown(rs.ctx, id, status)
			}
			var mu sync.Mutex
			var stops, posts []time.Duration
			before := writes.n.Load()
			metricsBefore, err := apiMetrics(rs.ctx, k)
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Go(func() {
					for range stopsPerSrv {
						start := time.Now()
						if err := servers.Stop(rs.ctx, t.c, id).ExtractErr(); err != nil {
							b.Error(err)
							return
						}
						posted := time.Since(start)
						if err := shown(id, "SHUTOFF", start); err != nil {
							b.Error(err)
							return
						}
						took := time.Since(start)
						mu.Lock()
						stops = append(stops, took)
						posts = append(posts, posted)
						mu.Unlock()
						started := time.Now()
						if err := servers.Start(rs.ctx, t.c, id).ExtractErr(); err != nil {
							b.Error(err)
							return
						}
						if err := shown(id, "ACTIVE", started); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if b.Failed() {
				return
			}
			metricsAfter, err := apiMetrics(rs.ctx, k)
			if err != nil {
				b.Fatal(err)
			}
			how, suffix := "polled every 5 ms", ""
			if watched {
				how, suffix = "watched, then one GET", "-watched"
			}
			logMetrics(b, "a stop or a start, "+how, metricsBefore, metricsAfter, 2*len(stops))
			// A stop and a start each round; the watch may trail the last start by a moment.
			perAction := float64(writes.n.Load()-before) / float64(2*len(stops))
			b.ReportMetric(perAction, "writes/action"+suffix)
			// How much of it is the POST itself (answered 202), the rest being the
			// controller's writes and the GETs that see them.
			b.ReportMetric(ms(percentile(posts, 0.5)), "post"+suffix+"-p50-ms")
			b.ReportMetric(ms(percentile(posts, 0.99)), "post"+suffix+"-p99-ms")
			b.ReportMetric(ms(percentile(stops, 0.5)), "stop"+suffix+"-p50-ms")
			b.ReportMetric(ms(percentile(stops, 0.99)), "stop"+suffix+"-p99-ms")
			b.Logf("os-stop -> SHUTOFF shown (%s), %d clients, %d stops: p50 %v p99 %v max %v (the POST: p50 %v p99 %v); %.2f writes to servers and serveractions per stop or start",
				how, stopClients, len(stops), percentile(stops, 0.5).Round(time.Millisecond), percentile(stops, 0.99).Round(time.Millisecond),
				slices.Max(stops).Round(time.Millisecond), percentile(posts, 0.5).Round(time.Millisecond), percentile(posts, 0.99).Round(time.Millisecond), perAction)
		}
	}
}

// walk reads GET /servers/detail page by page, following servers_links as a client does;
// it returns how long it took, how long each full page took and the servers seen.
func (t *restTenant) walk(ctx context.Context) (time.Duration, []time.Duration, int, error) {
	start := time.Now()
	u := t.c.ServiceURL("servers", "detail") + "?limit=1000"
	var full []time.Duration
	seen := 0
	for u != "" {
		var page struct {
			Servers []struct {
				ID string `json:"id"`
			} `json:"servers"`
			Links []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"servers_links"`
		}
		at := time.Now()
		if err := t.getJSON(ctx, u, &page); err != nil {
			return 0, nil, 0, err
		}
		if len(page.Servers) == 1000 {
			full = append(full, time.Since(at))
		}
		seen += len(page.Servers)
		u = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next, err := url.Parse(l.Href)
				if err != nil {
					return 0, nil, 0, err
				}
				u = t.c.ServiceURL("servers", "detail") + "?" + next.RawQuery
			}
		}
	}
	return time.Since(start), full, seen, nil
}

// rawList times a LIST of the tenant's Server objects on kube-apiserver.
func (rs *restStack) rawList(tenant string, want int) (time.Duration, error) {
	start := time.Now()
	var l computev1.ServerList
	if err := rs.k8s.List(rs.ctx, &l, client.InNamespace(tenant)); err != nil {
		return 0, err
	}
	if len(l.Items) != want {
		return 0, fmt.Errorf("LIST returned %d servers, want %d", len(l.Items), want)
	}
	return time.Since(start), nil
}

// measureWalk walks the tenant's servers walkRounds times, alternating with raw LISTs, and
// returns the median walk, full page and raw LIST.
func (rs *restStack) measureWalk(b *testing.B, t *restTenant, fleet int) (walk, page, list time.Duration) {
	var walks, pages, lists []time.Duration
	for range walkRounds {
		d, full, seen, err := t.walk(rs.ctx)
		if err != nil {
			b.Fatal(err)
		}
		if seen != fleet {
			b.Fatalf("the walk saw %d servers of %d", seen, fleet)
		}
		walks, pages = append(walks, d), append(pages, full...)
		l, err := rs.rawList(t.name, fleet)
		if err != nil {
			b.Fatal(err)
		}
		lists = append(lists, l)
	}
	return percentile(walks, 0.5), percentile(pages, 0.5), percentile(lists, 0.5)
}

// BenchmarkShimDetailWalk: the walk at 1,000 servers (one full page and an empty one),
// then at 10,000, each against a raw LIST of the same servers; a page is the median full
// page of the walks.
func BenchmarkShimDetailWalk(b *testing.B) {
	rs := startProcessRestStack(b)
	defer rs.st.Stop()
	t := rs.tenant(b, "walk", "10.13.0.0/16")
	// The fleet is larger than the test control plane's default quota (testenv.InstanceQuota).
	unlimitedQuota(rs.ctx, b, rs.k8s, t.name)
	active := watchActive(rs.ctx, b, rs.st.CP.Config)
	b.ResetTimer()
	for n := range b.N {
		if n > 0 {
			b.Fatal("run it with -benchtime 1x: the fleet grows")
		}
		rs.kubectlBoot(b, t.name, "w", walkSmall)
		untilActive(b, rs.ctx, active, walkSmall)
		smallWalk, smallPage, smallList := rs.measureWalk(b, t, walkSmall)
		createServers(rs.ctx, b, rs.k8s, t.name, "w", walkSmall, walkLarge-walkSmall)
		untilActive(b, rs.ctx, active, walkLarge)
		largeWalk, largePage, largeList := rs.measureWalk(b, t, walkLarge)
		b.ReportMetric(ms(largeWalk), "walk-10k-ms")
		b.ReportMetric(ms(largeList), "rawlist-10k-ms")
		b.ReportMetric(float64(largeWalk)/float64(largeList), "walk/list-10k")
		b.ReportMetric(ms(smallPage), "page-1k-ms")
		b.ReportMetric(ms(largePage), "page-10k-ms")
		b.ReportMetric(float64(largePage)/float64(smallPage), "page-10k/1k")
		b.Logf("%s", strings.Join([]string{
			fmt.Sprintf("at %d servers: walk %v (a full page %v), raw LIST %v", walkSmall, smallWalk.Round(time.Millisecond), smallPage.Round(100*time.Microsecond), smallList.Round(time.Millisecond)),
			fmt.Sprintf("at %d servers: walk %v (a full page %v), raw LIST %v: walk/LIST %.2f; a page at 10,000 / at 1,000 %.2f", walkLarge, largeWalk.Round(time.Millisecond), largePage.Round(100*time.Microsecond), largeList.Round(time.Millisecond), float64(largeWalk)/float64(largeList), float64(largePage)/float64(smallPage)),
		}, "; "))
	}
}
