package identity

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed logins are throttled per user (a guessed password) and per client address (many
// users tried from one place): each failure takes a token from both buckets, and a login
// whose bucket is empty is refused (429) before its password is looked at, so guessing
// runs at the refill rate whatever the client's speed. Successful logins take nothing.
const (
	userFailureBurst  = 5
	userFailureEvery  = 2 * time.Second
	addrFailureBurst  = 50
	addrFailureEvery  = 100 * time.Millisecond
	maxThrottleKeys   = 10000
	maxThrottleKeyLen = 300
)

type throttle struct {
	now func() time.Time

	mu    sync.Mutex
	users map[string]*rate.Limiter
	addrs map[string]*rate.Limiter
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, users: map[string]*rate.Limiter{}, addrs: map[string]*rate.Limiter{}}
}

// limiter returns key's bucket in m; past maxThrottleKeys the map starts afresh, which
// can only forgive failures, never refuse a login.
func limiter(m map[string]*rate.Limiter, key string, every time.Duration, burst int) *rate.Limiter {
	if l, ok := m[key]; ok {
		return l
	}
	l := rate.NewLimiter(rate.Every(every), burst)
	m[key] = l
	return l
}

func (t *throttle) buckets(userKey, addr string) (*rate.Limiter, *rate.Limiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.users) >= maxThrottleKeys {
		t.users = map[string]*rate.Limiter{}
	}
	if len(t.addrs) >= maxThrottleKeys {
		t.addrs = map[string]*rate.Limiter{}
	}
	userKey = strings.ToLower(userKey)
	if len(userKey) > maxThrottleKeyLen {
		userKey = userKey[:maxThrottleKeyLen]
	}
	return limiter(t.users, userKey, userFailureEvery, userFailureBurst), limiter(t.addrs, addr, addrFailureEvery, addrFailureBurst)
}

// wait is how long a login for userKey from addr must wait, 0 if it may go ahead.
func (t *throttle) wait(userKey, addr string) time.Duration {
	u, a := t.buckets(userKey, addr)
	now := t.now()
	var d time.Duration
	for _, l := range []*rate.Limiter{u, a} {
		if l.TokensAt(now) < 1 {
			r := l.ReserveN(now, 1)
			d = max(d, r.DelayFrom(now))
			r.CancelAt(now)
		}
	}
	return d
}

// failed records a failed login.
func (t *throttle) failed(userKey, addr string) {
	u, a := t.buckets(userKey, addr)
	now := t.now()
	u.AllowN(now, 1)
	a.AllowN(now, 1)
}
