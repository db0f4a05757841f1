package quota

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// DefaultTTL is how long a reservation counts without its server being seen: far longer
// than an admitted create takes to be stored (the webhook's timeout is 10 s), so a count
// never drops a reservation whose server is still on its way.
const DefaultTTL = 2 * time.Minute

// maxAttempts bounds the optimistic-concurrency retries of one batch of claims.
const maxAttempts = 50

// Claim is what admission asks to reserve for one server: a create (one instance of
// Flavor) or a resize (Growth: the cores and RAM the new flavor adds, when positive).
type Claim struct {
	UID, FlavorRef string
	Create         bool
	Flavor         Flavor
	Growth         Usage
	// Object is what a create adds to a quota that counts objects: a server's place in
	// its server group. It is reserved with the usage, or neither is.
	Object *ObjectClaim
	// DryRun checks without reserving.
	DryRun bool
}

func (c Claim) usage() Usage {
	if c.Create {
		return Usage{Instances: 1, Cores: c.Flavor.VCPUs, RAM: c.Flavor.RAM}
	}
	return Usage{Cores: max(c.Growth.Cores, 0), RAM: max(c.Growth.RAM, 0)}
}

// Reserver reserves usage in a tenant's Quota status before admission lets a server be
// stored, as Kubernetes' ResourceQuota admission does: read the Quota, check, write the new
// usage with the resourceVersion read, and on a conflict (another replica, or the
// controller's count) read again and retry. The claims that arrive while a write is in
// flight wait and go together in the next write, so a burst of creates costs a few writes
// rather than one conflict per create.
type Reserver struct {
	// Client writes the Quota (create and status); its cache serves the QuotaClass and the
	// flavors.
	Client client.Client
	// Live reads the Quota and, before a refusal, the tenant's servers from the API server.
	Live client.Reader
	// TTL is how long a reservation lasts unseen; 0 means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Seen ends object reservations whose objects this process saw stored or deleted;
	// nil ends them by the API server's lists alone.
	Seen *Seen

	mu      sync.Mutex
	pending map[string][]*waiter
}

type waiter struct {
	claim  Claim
	object *ObjectClaim
	done   chan error
}

// Reserve reserves claim in namespace ns, or answers an *ExceededError in Nova's words.
func (r *Reserver) Reserve(ctx context.Context, ns string, claim Claim) error {
	return r.wait(ctx, ns, &waiter{claim: claim, done: make(chan error, 1)})
}

// ReserveObjects reserves an object claim in namespace ns, or answers an
// *ObjectExceededError.
func (r *Reserver) ReserveObjects(ctx context.Context, ns string, claim ObjectClaim) error {
	return r.wait(ctx, ns, &waiter{object: &claim, done: make(chan error, 1)})
}

// pendingWait is how long a refusal that counts creates not seen stored yet waits for
// them, looking again every pendingStep: one of them may be gone already, and this
// process's informers not have said so yet (they lag the API server under load).
const (
	pendingWait = time.Second
	pendingStep = 100 * time.Millisecond
)

func (r *Reserver) wait(ctx context.Context, ns string, w *waiter) error {
	deadline := time.Now().Add(pendingWait)
	for {
		err := r.once(ctx, ns, w)
		var over *ObjectExceededError
		if !errors.As(err, &over) || over.Pending == 0 || r.Seen == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(pendingStep):
		case <-ctx.Done():
			return err
		}
		w = &waiter{claim: w.claim, object: w.object, done: make(chan error, 1)}
	}
}

// once queues w for the next write of ns and waits for its outcome.
func (r *Reserver) once(ctx context.Context, ns string, w *waiter) error {
	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[string][]*waiter{}
	}
	queue, running := r.pending[ns]
	r.pending[ns] = append(queue, w)
	if !running {
		go r.run(ns)
	}
	r.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		// The reservation may still be made: the count drops it when it expires.
		return ctx.Err()
	}
}

// run writes the claims of ns in batches until none wait; r.pending[ns] exists (possibly
// empty) while it runs.
func (r *Reserver) run(ns string) {
	for {
		r.mu.Lock()
		batch := r.pending[ns]
		if len(batch) == 0 {
			delete(r.pending, ns)
			r.mu.Unlock()
			return
		}
		r.pending[ns] = []*waiter{}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		results, err := r.reserve(ctx, ns, batch)
		cancel()
		for i, w := range batch {
			if err != nil {
				w.done <- err
			} else {
				w.done <- results[i]
			}
		}
	}
}

func (r *Reserver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// reserve makes one write for batch; results[i] is claim i's refusal or nil.
func (r *Reserver) reserve(ctx context.Context, ns string, batch []*waiter) ([]error, error) {
	class, err := r.class(ctx)
	if err != nil {
		return nil, err
	}
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	for range maxAttempts {
		q, err := r.quota(ctx, ns)
		if err != nil {
			return nil, err
		}
		limits := Effective(class, &q.Spec)
		now := r.now()
		st := q.Status.DeepCopy()
		recounted := false
		results := make([]error, len(batch))
		changed := false
		objects := &objectCount{ctx: ctx, live: r.Live, ns: ns, seen: r.Seen, listed: time.Now(), now: now,
			lists: map[string]listed{}, over: map[string]bool{}}
		for i, w := range batch {
			if w.object != nil {
				refusal, added, err := objects.reserveObject(st, limits, *w.object, ObjectTTL)
				if err != nil {
					return nil, err
				}
				results[i], changed = refusal, changed || added
				continue
			}
			c := w.claim
			// Nothing to hold when the same admission asked again, or when nothing limits it.
			hold := !reserved(st, c) && !unlimited(limits, c)
			var refusal error
			if hold {
				refusal = check(limits, st.Used, c)
			}
			if refusal != nil && !recounted {
				// Refuse only on a fresh count: servers deleted since the last one free
				// their quota now, not when the controller next counts.
				servers, err := r.servers(ctx, ns)
				if err != nil {
					return nil, err
				}
				flavors, err := Flavors(ctx, r.Client, r.Live, servers)
				if err != nil {
					return nil, err
				}
				fresh := Recount(*st, servers, flavors, nil, now)
				changed = changed || fresh.Used != st.Used || len(fresh.Reservations) != len(st.Reservations)
				st, recounted = &fresh, true
				refusal = check(limits, st.Used, c)
			}
			if refusal != nil {
				results[i] = refusal
				continue
			}
			if c.Object != nil {
				// The server's place in its group, after its usage (Nova's order), and
				// in the same write: a refusal of either holds neither.
				oc := *c.Object
				oc.DryRun = c.DryRun
				refusal, added, err := objects.reserveObject(st, limits, oc, ObjectTTL)
				if err != nil {
					return nil, err
				}
				results[i], changed = refusal, changed || added
				if refusal != nil {
					continue
				}
			}
			if !hold || c.DryRun {
				continue
			}
			u := c.usage()
			st.Used = Add(st.Used, u)
			st.Reservations = append(st.Reservations, computev1.QuotaReservation{
				UID: c.UID, FlavorRef: c.FlavorRef, Usage: u, Expires: metav1.NewTime(now.Add(ttl)),
			})
			changed = true
		}
		if !changed {
			return results, nil
		}
		objects.prune(st)
		q.Status = *st
		err = r.Client.Status().Update(ctx, q)
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reserving quota in %s: %w", ns, err)
		}
		return results, nil
	}
	return nil, apierrors.NewTooManyRequests(fmt.Sprintf("the quota of %s is being written by many at once; try again", ns), 1)
}

// unlimited says whether none of what c asks for has a limit (-1, Nova's unlimited): Nova
// checks nothing then, and no reservation is needed to keep concurrent claims within a
// limit. What c uses is still counted by the controller, for /limits and for a limit set
// later.
func unlimited(l Limits, c Claim) bool {
	u := c.usage()
	for name, n := range map[string]int64{Instances: u.Instances, Cores: u.Cores, RAM: u.RAM} {
		if n > 0 && l[name] >= 0 {
			return false
		}
	}
	return true
}

func check(l Limits, used Usage, c Claim) error {
	if c.Create {
		one := big.NewInt(1)
		_, err := Create(l, used, c.Flavor, one, one, "1")
		return err
	}
	return Grow(l, used, c.usage())
}

// reserved says whether st already holds c's reservation.
func reserved(st *computev1.QuotaStatus, c Claim) bool {
	for _, r := range st.Reservations {
		if r.UID == c.UID && r.FlavorRef == c.FlavorRef {
			return true
		}
	}
	return false
}

// class is the QuotaClass "default"'s limits, nil when there is none.
func (r *Reserver) class(ctx context.Context) (*computev1.QuotaLimits, error) {
	return Class(ctx, r.Client)
}

// Class is the QuotaClass "default"'s limits, nil when there is none.
func Class(ctx context.Context, c client.Reader) (*computev1.QuotaLimits, error) {
	qc := &computev1.QuotaClass{}
	if err := c.Get(ctx, client.ObjectKey{Name: computev1.QuotaName}, qc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return &qc.Spec, nil
}

// quota reads the tenant's Quota from the API server, creating it (with a fresh count)
// when the tenant has none yet.
func (r *Reserver) quota(ctx context.Context, ns string) (*computev1.Quota, error) {
	q := &computev1.Quota{}
	err := r.Live.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, q)
	if err == nil || !apierrors.IsNotFound(err) {
		return q, err
	}
	q = &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: computev1.QuotaName}}
	if err := r.Client.Create(ctx, q); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating the quota of %s: %w", ns, err)
	}
	// The status starts empty; the first check that fails counts, and the controller
	// counts as soon as it sees the new Quota.
	q = &computev1.Quota{}
	return q, r.Live.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, q)
}

func (r *Reserver) servers(ctx context.Context, ns string) ([]computev1.Server, error) {
	var list computev1.ServerList
	if err := r.Live.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// Flavors resolves the flavors of servers (from cache, then live for one the cache has
// not seen yet); a flavor that is gone holds nothing.
func Flavors(ctx context.Context, cache, live client.Reader, servers []computev1.Server) (func(string) Flavor, error) {
	found := map[string]Flavor{}
	var refs []string
	for i := range servers {
		refs = append(refs, servers[i].Spec.FlavorRef)
		if servers[i].Status.Flavor != "" {
			refs = append(refs, servers[i].Status.Flavor)
		}
	}
	for _, ref := range refs {
		if _, ok := found[ref]; ok {
			continue
		}
		f := &computev1.Flavor{}
		err := cache.Get(ctx, client.ObjectKey{Name: ref}, f)
		if apierrors.IsNotFound(err) && live != nil {
			err = live.Get(ctx, client.ObjectKey{Name: ref}, f)
		}
		switch {
		case err == nil:
			found[ref] = FlavorOf(f)
		case apierrors.IsNotFound(err):
			found[ref] = Flavor{}
		default:
			return nil, err
		}
	}
	return func(ref string) Flavor { return found[ref] }, nil
}

// IsExceeded says whether err is a quota refusal.
func IsExceeded(err error) bool {
	var e *ExceededError
	return errors.As(err, &e)
}
