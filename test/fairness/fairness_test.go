// Package fairness shows that API Priority and Fairness, configured by config/flowcontrol,
// keeps one noisy tenant from starving another now that Kova's clients have no client-side
// limit: a tenant flooding the API server with Kova requests from many users at once is
// queued (and refused with 429 when its queues are full) as one flow, its namespace, while
// a quiet tenant's requests are all served.
package fairness

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/testenv"
)

const (
	noisyUsers      = 8  // users of the noisy tenant, each its own client (ByUser would give each a flow)
	noisyPerUser    = 50 // requests each noisy user keeps in flight
	quietRequests   = 30 // requests the quiet tenant makes, one after another, during the flood
	flowSchema      = "kova-tenants"
	priorityLevel   = "kova-tenants"
	quietNamespace  = "quiet"
	noisyNamespace  = "noisy"
	tenantClusterRB = "fairness-tenants"
)

func TestNoisyTenantDoesNotStarveAQuietOne(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cp, err := localcp.Start(ctx, localcp.Options{
		BinDir:   testenv.BinDir(),
		CRDPaths: []string{testenv.Root() + "/config/crd/bases"},
	})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = cp.Stop() }()
	admin, err := client.New(cp.Config, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	st := &testenv.Stack{Client: admin}
	g.Expect(st.ApplyFlowControl(ctx)).To(Succeed())

	// Tenants may read servers in their namespace: one group bound to kova-observer-like
	// read access everywhere keeps the setup short; the flows are still told apart by
	// namespace.
	for _, ns := range []string{quietNamespace, noisyNamespace} {
		g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	g.Expect(admin.Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: tenantClusterRB},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{computev1.GroupVersion.Group}, Resources: []string{"servers"}, Verbs: []string{"get", "list"}}},
	})).To(Succeed())
	g.Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: tenantClusterRB},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tenantClusterRB},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "tenants"}},
	})).To(Succeed())

	userClient := func(name string) client.Client {
		u, err := cp.Env.AddUser(envtest.User{Name: name, Groups: []string{"tenants"}}, nil)
		g.Expect(err).NotTo(HaveOccurred())
		cfg := rest.CopyConfig(u.Config())
		cfg.QPS = -1 // as Kova's clients: no client-side limit, the API server decides
		c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
		g.Expect(err).NotTo(HaveOccurred())
		return c
	}
	quiet := userClient("quiet-user")
	// The quiet tenant can read before the flood.
	g.Eventually(func() error {
		return quiet.List(ctx, &computev1.ServerList{}, client.InNamespace(quietNamespace))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	before := scrape(ctx, g, cp.Config)

	// The flood: every noisy user keeps its requests in flight until the quiet tenant is done.
	// It stops by a flag, not by cancelling its requests, so each ends as the server answers.
	var stopped atomic.Bool
	var flood sync.WaitGroup
	stopFlood := func() { stopped.Store(true); flood.Wait() }
	var floodOK, floodRefused atomic.Int64
	for i := range noisyUsers {
		c := userClient(fmt.Sprintf("noisy-user-%d", i))
		for range noisyPerUser {
			flood.Go(func() {
				for !stopped.Load() {
					err := c.List(ctx, &computev1.ServerList{}, client.InNamespace(noisyNamespace))
					switch {
					case err == nil:
						floodOK.Add(1)
					case apierrors.IsTooManyRequests(err):
						floodRefused.Add(1)
					}
				}
			})
		}
	}
	defer stopFlood()
	// The flood is running before the quiet tenant starts.
	g.Eventually(floodOK.Load).WithTimeout(30 * time.Second).Should(BeNumerically(">", noisyUsers*noisyPerUser))

	// Every request of the quiet tenant succeeds, while the flood runs.
	var quietDone atomic.Int64
	var quietErr atomic.Value
	go func() {
		for range quietRequests {
			if err := quiet.List(ctx, &computev1.ServerList{}, client.InNamespace(quietNamespace)); err != nil {
				quietErr.Store(err.Error())
				return
			}
			quietDone.Add(1)
		}
	}()
	g.Eventually(func(g Gomega) {
		g.Expect(quietErr.Load()).To(BeNil())
		g.Expect(quietDone.Load()).To(BeEquivalentTo(quietRequests))
	}).WithTimeout(20 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	g.Expect(stopped.Load()).To(BeFalse(), "the flood still ran when the quiet tenant finished")
	servedBeforeScrape := floodOK.Load()
	after := scrape(ctx, g, cp.Config)
	stopFlood()

	// The API server classified the tenants' requests with Kova's flow schema, and the
	// flood filled its share: its requests waited in the queues, or were refused.
	dispatched := after.sum("apiserver_flowcontrol_dispatched_requests_total") -
		before.sum("apiserver_flowcontrol_dispatched_requests_total")
	g.Expect(dispatched).To(BeNumerically(">=", float64(servedBeforeScrape+quietRequests)),
		"the tenants' requests went through the %s flow schema", flowSchema)
	queued := after.sum("apiserver_flowcontrol_request_wait_duration_seconds_count") -
		before.sum("apiserver_flowcontrol_request_wait_duration_seconds_count")
	waitedLong := after.bucketAbove("apiserver_flowcontrol_request_wait_duration_seconds_bucket", 0.005) -
		before.bucketAbove("apiserver_flowcontrol_request_wait_duration_seconds_bucket", 0.005)
	t.Logf("flood: %d served, %d refused with 429; %v requests through %s, %v waited over 5 ms in its queues; quiet: %d of %d served",
		floodOK.Load(), floodRefused.Load(), dispatched, flowSchema, waitedLong, quietDone.Load(), quietRequests)
	g.Expect(queued).To(BeNumerically(">", 0))
	g.Expect(float64(floodRefused.Load())+waitedLong).To(BeNumerically(">", 0),
		"the flood never filled the %s priority level, so this test showed nothing", priorityLevel)
}

// metrics are the API server's /metrics lines, by name.
type metrics map[string][]string

func scrape(ctx context.Context, g Gomega, cfg *rest.Config) metrics {
	c, err := rest.HTTPClientFor(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(cfg.Host, "/")+"/metrics", nil)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := c.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	out := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		out[name] = append(out[name], line)
	}
	g.Expect(sc.Err()).NotTo(HaveOccurred())
	return out
}

// sum adds the values of a metric's series for Kova's tenants' flow schema.
func (m metrics) sum(name string) float64 {
	var total float64
	for _, line := range m[name] {
		if !strings.Contains(line, `flow_schema="`+flowSchema+`"`) {
			continue
		}
		total += value(line)
	}
	return total
}

// bucketAbove is how many observations of a histogram for Kova's tenants' flow schema
// exceeded le: the +Inf bucket less the le bucket, over its series.
func (m metrics) bucketAbove(name string, le float64) float64 {
	var inf, under float64
	leLabel := `le="` + strconv.FormatFloat(le, 'g', -1, 64) + `"`
	for _, line := range m[name] {
		if !strings.Contains(line, `flow_schema="`+flowSchema+`"`) {
			continue
		}
		switch {
		case strings.Contains(line, `le="+Inf"`):
			inf += value(line)
		case strings.Contains(line, leLabel):
			under += value(line)
		}
	}
	return inf - under
}

func value(line string) float64 {
	f := strings.Fields(line)
	v, _ := strconv.ParseFloat(f[len(f)-1], 64)
	return v
}
