package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"k8s.io/client-go/kubernetes"

	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

// BenchmarkShimTrace is a profile rather than a figure: it logs every request the shim and
// the manager (controllers and admission webhooks) make to kube-apiserver during one
// POST /servers and one os-stop (until the stop shows), in order, with their times, and kube-apiserver's own
// account of the webhooks and the stores (its metrics) averaged over traceCalls calls of
// each, made one at a time on a warm stack. It is where the time of a REST write goes.

const traceCalls = 10

// traced is one request to kube-apiserver.
type traced struct {
	who, method, path, as string
	start, took           time.Duration
	code                  int
}

// tracer records the requests of the components it wraps while on.
type tracer struct {
	mu    sync.Mutex
	t0    time.Time
	on    bool
	calls []traced
}

func (tr *tracer) wrap(who string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			start := time.Now()
			resp, err := next.RoundTrip(r)
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if tr.on && !strings.Contains(r.URL.RawQuery, "watch=true") {
				code := 0
				if resp != nil {
					code = resp.StatusCode
				}
				path := r.URL.Path
				if q := r.URL.Query(); q.Get("labelSelector") != "" || q.Get("fieldSelector") != "" {
					path += "?" + url.Values{"labelSelector": q["labelSelector"], "fieldSelector": q["fieldSelector"]}.Encode()
				}
				if strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadata") {
					path += " (metadata)"
				}
				tr.calls = append(tr.calls, traced{who: who, method: r.Method, path: path, as: r.Header.Get("Impersonate-User"),
					start: start.Sub(tr.t0), took: time.Since(start), code: code})
			}
			return resp, err
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// record runs call with the tracer on and returns the requests made meanwhile and how long
// call took.
func (tr *tracer) record(call func() error) ([]traced, time.Duration, error) {
	tr.mu.Lock()
	tr.t0, tr.on, tr.calls = time.Now(), true, nil
	tr.mu.Unlock()
	err := call()
	took := time.Since(tr.t0)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.on = false
	return tr.calls, took, err
}

func logTrace(b *testing.B, what string, calls []traced, took time.Duration) {
	b.Logf("%s: answered in %v; requests to kube-apiserver meanwhile (start +ms, took ms):", what, took.Round(100*time.Microsecond))
	for _, c := range calls {
		as := ""
		if c.as != "" {
			as = " as " + c.as
		}
		b.Logf("  %7.1f %6.1f  %-8s %s %s%s -> %d", ms(c.start), ms(c.took), c.who, c.method, c.path, as, c.code)
	}
}

// apiMetrics are the sums and counts of kube-apiserver's histograms that say where a write
// spends its time, by series.
func apiMetrics(ctx context.Context, k *kubernetes.Clientset) (map[string]float64, error) {
	raw, err := k.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		keep := strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_") ||
			strings.HasPrefix(line, "apiserver_request_duration_seconds_") && (strings.Contains(line, `group="compute.kova.dev"`) ||
				strings.Contains(line, `resource="subjectaccessreviews"`) || strings.Contains(line, `resource="tokenreviews"`))
		if !keep || !strings.Contains(line, "_sum{") && !strings.Contains(line, "_count{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// logMetrics logs what changed between two readings of apiMetrics, per call.
func logMetrics(b *testing.B, what string, before, after map[string]float64, calls int) {
	b.Logf("%s: kube-apiserver's account, per call (count, mean ms):", what)
	var keys []string
	for k := range after {
		if strings.Contains(k, "_count{") && after[k] > before[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := after[k] - before[k]
		sum := strings.Replace(k, "_count{", "_sum{", 1)
		b.Logf("  %5.2f x %7.1f ms  %s", n/float64(calls), 1000*(after[sum]-before[sum])/n, k)
	}
}

func BenchmarkShimTrace(b *testing.B) {
	tr := &tracer{}
	ctx := context.Background()
	st, err := testenv.StartStackWith(ctx, testenv.StackOptions{Nova: novaserver.NovaAPI(),
		WrapManager: tr.wrap("manager"), WrapNovaAPI: tr.wrap("nova-api")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Stop()
	k, err := kubernetes.NewForConfig(st.CP.Config)
	if err != nil {
		b.Fatal(err)
	}
	rs := &restStack{ctx: ctx, st: st, k8s: st.Client}
	t := rs.tenant(b, "trace", "10.14.0.0/16")
	boot := func(i int) (string, error) {
		s, err := servers.Create(ctx, t.c, servers.CreateOpts{Name: fmt.Sprintf("trace-%d", i), FlavorRef: "m1.tiny",
			ImageRef: t.img, Networks: []servers.Network{{UUID: t.net}}}, nil).Extract()
		if err != nil {
			return "", err
		}
		return s.ID, t.untilShown(ctx, s.ID, "ACTIVE")
	}
	// Warm: the token and RBAC caches, the impersonating client, the webhooks' connections.
	id, err := boot(-1)
	if err != nil {
		b.Fatal(err)
	}
	if err := servers.Stop(ctx, t.c, id).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	if err := t.untilShown(ctx, id, "SHUTOFF"); err != nil {
		b.Fatal(err)
	}
	if err := servers.Start(ctx, t.c, id).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	if err := t.untilShown(ctx, id, "ACTIVE"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		before, err := apiMetrics(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		var posts []time.Duration
		var last []traced
		for i := range traceCalls {
			var made string
			calls, took, err := tr.record(func() error {
				s, err := servers.Create(ctx, t.c, servers.CreateOpts{Name: fmt.Sprintf("trace-%d", i), FlavorRef: "m1.tiny",
					ImageRef: t.img, Networks: []servers.Network{{UUID: t.net}}}, nil).Extract()
				if err == nil {
					made = s.ID
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := t.untilShown(ctx, made, "ACTIVE"); err != nil {
				b.Fatal(err)
			}
			posts, last = append(posts, took), calls
		}
		after, err := apiMetrics(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		logTrace(b, "POST /servers", last, posts[len(posts)-1])
		logMetrics(b, "POST /servers", before, after, traceCalls)
		b.ReportMetric(ms(percentile(posts, 0.5)), "boot-post-p50-ms")

		before = after
		var stops, shown []time.Duration
		for range traceCalls {
			// Traced until the stop shows, so the manager's writes and the polls are in it.
			var posted time.Duration
			start := time.Now()
			calls, took, err := tr.record(func() error {
				if err := servers.Stop(ctx, t.c, id).ExtractErr(); err != nil {
					return err
				}
				posted = time.Since(start)
				return t.untilShown(ctx, id, "SHUTOFF")
			})
			if err != nil {
				b.Fatal(err)
			}
			stops, shown, last = append(stops, posted), append(shown, took), calls
			if err := servers.Start(ctx, t.c, id).ExtractErr(); err != nil {
				b.Fatal(err)
			}
			if err := t.untilShown(ctx, id, "ACTIVE"); err != nil {
				b.Fatal(err)
			}
		}
		if after, err = apiMetrics(ctx, k); err != nil {
			b.Fatal(err)
		}
		logTrace(b, fmt.Sprintf("POST /servers/{id}/action os-stop (answered at %v) until SHUTOFF shown", stops[len(stops)-1].Round(100*time.Microsecond)),
			last, shown[len(shown)-1])
		logMetrics(b, "os-stop and os-start", before, after, 2*traceCalls)
		b.ReportMetric(ms(percentile(stops, 0.5)), "stop-post-p50-ms")
		b.ReportMetric(ms(percentile(shown, 0.5)), "stop-shown-p50-ms")
		b.Logf("POST /servers p50 %v; os-stop's POST p50 %v (%d each, one at a time)",
			percentile(posts, 0.5).Round(100*time.Microsecond), percentile(stops, 0.5).Round(100*time.Microsecond), traceCalls)
	}
}
