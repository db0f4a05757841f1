package faults

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/kova-dev/kova/internal/testenv"
)

// A careful client's retries: every attempt that got no answer, a 5xx or a 429 is sent
// again after a back-off, until it is answered or the client runs out of patience.
const (
	attemptTimeout = 20 * time.Second
	firstBackoff   = 200 * time.Millisecond
	maxBackoff     = 2 * time.Second
	maxTries       = 150
	clientDeadline = 3 * time.Minute
	// microversion shows `locked` (2.9); creates name their network by uuid, as from 2.37.
	microversion = "2.9"
)

// computeClient is a gophercloud compute client for a token in a tenant, directly or
// through kube-apiserver ("aggregated").
func computeClient(token, tenant string, aggregated bool) *gophercloud.ServiceClient {
	endpoint := stack.DirectURL + "/v2.1/" + tenant + "/"
	var rt http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
	if aggregated {
		endpoint = stack.AggregatedURL + "/" + tenant + "/"
		rt = testenv.AuthTokenAsBearer{Next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.APIServerCAs, MinVersion: tls.VersionTLS12}}}
	}
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: rt, Timeout: attemptTimeout}}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: "compute", Microversion: microversion}
}

// withKey is c sending an Idempotency-Key on every request.
func withKey(c *gophercloud.ServiceClient, key string) *gophercloud.ServiceClient {
	keyed := *c
	keyed.MoreHeaders = map[string]string{"Idempotency-Key": key}
	return &keyed
}

// outcome is how one attempt ended: answered with a status code, or not answered at all.
type outcome struct {
	code int // 0: no answer (connection refused or reset, timeout)
	body string
	err  error
}

func outcomeOf(err error) outcome {
	var coded gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &coded) {
		return outcome{code: coded.Actual, body: string(coded.Body), err: err}
	}
	if err == nil {
		return outcome{code: http.StatusAccepted}
	}
	return outcome{err: err}
}

// retryable says whether a careful client sends the request again. A 403 or a 401 is not,
// except from a kube-apiserver that is not ready: one that has just started answers before
// its RBAC informers have synced, and refuses what its RoleBindings allow
// (kubernetes#121635), and its service-account token authenticator likewise refuses
// TokenReviews of valid tokens until its caches have synced; in a cluster a load balancer
// that asks /readyz (and the kubernetes Service's endpoints, which list only a ready
// kube-apiserver) keeps clients and nova-api away from it until then, and localcp,
// restarting it on the same port, cannot.
func (o outcome) retryable() bool {
	return o.code == 0 || o.code >= 500 || o.code == http.StatusTooManyRequests ||
		(o.code == http.StatusForbidden || o.code == http.StatusUnauthorized) && apiServer.recentlyUnready()
}

// notReadyGrace is how long after kube-apiserver last said it was not ready a 403 is taken
// for its not being ready.
const notReadyGrace = 2 * time.Second

// readiness follows kube-apiserver's /readyz.
type readiness struct {
	mu           sync.Mutex
	lastNotReady time.Time
}

var apiServer = &readiness{}

// watch polls /readyz (open to anonymous requests) until ctx ends.
func (r *readiness) watch(ctx context.Context) {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: stack.APIServerCAs, MinVersion: tls.VersionTLS12}}}
	url := strings.TrimRight(stack.CP.Config.Host, "/") + "/readyz"
	for {
		ready := false
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err == nil {
			if resp, err := hc.Do(req); err == nil {
				ready = resp.StatusCode == http.StatusOK
				_ = resp.Body.Close()
			}
		}
		if !ready {
			r.mu.Lock()
			r.lastNotReady = time.Now()
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *readiness) recentlyUnready() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Since(r.lastNotReady) < notReadyGrace
}

// attempts tracks a request's tries and the back-off between them.
type attempts struct {
	tries    int
	backoff  time.Duration
	deadline time.Time
	history  []outcome
}

func newAttempts() *attempts {
	return &attempts{backoff: firstBackoff, deadline: time.Now().Add(clientDeadline)}
}

// again records an outcome and says whether to try again, after waiting the back-off.
func (a *attempts) again(ctx context.Context, o outcome) bool {
	a.tries++
	a.history = append(a.history, o)
	if !o.retryable() || a.tries >= maxTries || time.Now().After(a.deadline) {
		return false
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(a.backoff):
	}
	a.backoff = min(2*a.backoff, maxBackoff)
	return true
}

// unanswered counts the tries that got no answer: the request may or may not have been
// carried out.
func (a *attempts) unanswered() int {
	n := 0
	for _, o := range a.history {
		if o.code == 0 {
			n++
		}
	}
	return n
}

// createResult is what a client learnt from one keyed create.
type createResult struct {
	key, name  string
	aggregated bool   // sent through kube-apiserver
	id         string // the server the 202 named; "" if never answered 202
	attempts   *attempts
	replayed   bool // the 202 came from a retry that found the first one's server
	last       outcome
	// sentAt and answerAt are when the last try was sent and answered.
	sentAt, answerAt time.Time
}

// createServer sends a keyed create until it is answered.
func createServer(ctx context.Context, c *gophercloud.ServiceClient, key string, opts servers.CreateOpts) *createResult {
	keyed := withKey(c, key)
	r := &createResult{key: key, name: opts.Name, aggregated: strings.HasPrefix(c.Endpoint, stack.AggregatedURL), attempts: newAttempts()}
	for {
		r.sentAt = time.Now()
		s, err := servers.Create(ctx, keyed, opts, nil).Extract()
		r.last = outcomeOf(err)
		if err == nil {
			r.id, r.answerAt = s.ID, time.Now()
			// Nothing keeps a generated password, so only the first answer carries one.
			r.replayed = s.AdminPass == ""
			r.attempts.tries++
			r.attempts.history = append(r.attempts.history, r.last)
			return r
		}
		if !r.attempts.again(ctx, r.last) {
			return r
		}
	}
}
