package webhook

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// admittedTTL is how long an admitted create counts before it is seen stored: longer than
// the API server waits for the webhooks (10 s) and then writes; a create refused after
// this webhook let it through holds its place that long at most.
const admittedTTL = 20 * time.Second

// countGate makes a count-based quota check (server groups per tenant, members per group)
// hold against concurrent creates: checks of one scope run one at a time, and each counts,
// besides the objects the API server lists, the creates this process admitted that the
// list does not show yet. A count read from the API server alone let 19 of 20 concurrent
// group creates through a quota of 5. The ledger is per process: two manager replicas
// admitting into one scope at the same instant can still pass the last place together.
type countGate struct {
	mu       sync.Mutex
	turns    map[string]*sync.Mutex          // scope -> its turn
	admitted map[string]map[string]time.Time // scope -> object name -> admitted at; under mu
	now      func() time.Time
}

// admit runs check under the scope's turn with how many objects count: those listed by
// list (names) plus the ones admitted here and not listed yet. When check passes, name is
// recorded as admitted (not on a dry run). A nil gate checks the listed objects only.
func (g *countGate) admit(ctx context.Context, scope, name string, list func() ([]string, error), check func(count int) error) error {
	if g == nil {
		names, err := list()
		if err != nil {
			return err
		}
		return check(len(names))
	}
	turn := g.turn(scope)
	turn.Lock()
	defer turn.Unlock()
	names, err := list()
	if err != nil {
		return err
	}
	now := time.Now
	if g.now != nil {
		now = g.now
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.admitted == nil {
		g.admitted = map[string]map[string]time.Time{}
	}
	pending := g.admitted[scope]
	for _, n := range names {
		delete(pending, n)
	}
	for n, at := range pending {
		if now().Sub(at) > admittedTTL {
			delete(pending, n)
		}
	}
	if err := check(len(names) + len(pending)); err != nil {
		return err
	}
	if req, err := admission.RequestFromContext(ctx); err == nil && req.DryRun != nil && *req.DryRun {
		return nil
	}
	if pending == nil {
		pending = map[string]time.Time{}
		g.admitted[scope] = pending
	}
	pending[name] = now()
	return nil
}

// turn is the lock that orders the checks of scope.
func (g *countGate) turn(scope string) *sync.Mutex {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.turns == nil {
		g.turns = map[string]*sync.Mutex{}
	}
	t := g.turns[scope]
	if t == nil {
		t = &sync.Mutex{}
		g.turns[scope] = t
	}
	return t
}
