package quota

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// Quotas that are a count of objects (server groups, the members of one server group,
// security groups and their rules, floating IPs, one user's keypairs) are held like the servers' usage: the
// webhook reserves what a create adds in the tenant's Quota status (ObjectReservations),
// with the resourceVersion it read, before the API server stores the object. A check counts
// the objects the API server lists plus the reservations that list does not show yet, so
// concurrent creates through any number of replicas never pass the limit together.

// ObjectTTL is how long an object's reservation counts without the object being seen:
// longer than an admitted write takes to be stored (the webhooks' timeout is 10 s). A
// reservation whose object was stored is over as soon as a list or an informer shows it,
// so the TTL only matters for a write refused after admission.
const ObjectTTL = 30 * time.Second

// ObjectClaim is what admission asks to reserve for one object: Counts by quota key (a
// server group create adds one server_groups; a boot into a group one
// server_group_members in Scope, the group; a security group one security_groups and its
// rules; an update of a group the rules it adds; a keypair one key_pairs in Scope, its
// user).
type ObjectClaim struct {
	UID, Name string
	// Generation is the object's as it will be stored (1 for a create).
	Generation int64
	Scope      string
	Counts     map[string]int64
	// DryRun checks without reserving.
	DryRun bool
}

// ObjectExceededError is a refusal past an object quota: Resource is the quota's key.
// The webhooks say it in the words of the service that owns the object.
type ObjectExceededError struct {
	Resource    string
	Limit, Used int64
	// Pending is how much of Used is reserved for objects not seen stored yet.
	Pending int64
}

func (e *ObjectExceededError) Error() string {
	return fmt.Sprintf("Quota exceeded for %s: %d used of %d", e.Resource, e.Used, e.Limit)
}

// Counted is one stored object as an object quota counts it: N of the quota.
type Counted struct {
	UID, Name  string
	Generation int64
	N          int64
}

// CountObjects lists from r what holds quota name in namespace ns (scope is the server
// group for server_group_members, the user for key_pairs: Nova counts a user's keypairs,
// Kova those the user has in the tenant). An object being deleted holds nothing: Nova and
// Neutron free its quota when its delete is accepted.
func CountObjects(ctx context.Context, r client.Reader, ns, name, scope string) ([]Counted, error) {
	var out []Counted
	add := func(o metav1.Object, n int64) {
		if o.GetDeletionTimestamp() == nil {
			out = append(out, Counted{UID: string(o.GetUID()), Name: o.GetName(), Generation: o.GetGeneration(), N: n})
		}
	}
	switch name {
	case ServerGroups:
		var list computev1.ServerGroupList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for i := range list.Items {
			add(&list.Items[i], 1)
		}
	case ServerGroupMembers:
		var list computev1.ServerList
		if err := r.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{rules.FieldServerGroup: scope}); err != nil {
			return nil, err
		}
		for i := range list.Items {
			add(&list.Items[i], 1)
		}
	case SecurityGroups, SecurityGroupRules:
		var list computev1.SecurityGroupList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for i := range list.Items {
			n := int64(1)
			if name == SecurityGroupRules {
				n = int64(len(list.Items[i].Spec.Rules))
			}
			add(&list.Items[i], n)
		}
	case KeyPairs:
		var list computev1.KeypairList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for i := range list.Items {
			if list.Items[i].Spec.UserID == scope {
				add(&list.Items[i], 1)
			}
		}
	case FloatingIPs:
		var list computev1.FloatingIPList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for i := range list.Items {
			add(&list.Items[i], 1)
		}
	default:
		return nil, fmt.Errorf("%s is not a count of objects", name)
	}
	return out, nil
}

// objectCount is one attempt's view of a tenant's object quotas: the lists it made (each
// made once, after listed was taken) and the reservations it found over.
type objectCount struct {
	ctx    context.Context
	live   client.Reader
	ns     string
	seen   *Seen
	listed time.Time // before any list of this attempt
	now    time.Time
	lists  map[string]listed // name/scope -> what the list showed
	over   map[string]bool   // uid -> its reservation is over
}

// listed is one list: the objects by uid, and the uid of each metadata.name.
type listed struct {
	byUID  map[string]Counted
	byName map[string]string
}

func (o *objectCount) list(name, scope string) (listed, error) {
	key := name
	if scoped(name) {
		key += "/" + scope
	}
	if m, ok := o.lists[key]; ok {
		return m, nil
	}
	items, err := CountObjects(o.ctx, o.live, o.ns, name, scope)
	if err != nil {
		return listed{}, err
	}
	l := listed{byUID: make(map[string]Counted, len(items)), byName: make(map[string]string, len(items))}
	for _, c := range items {
		l.byUID[c.UID], l.byName[c.Name] = c, c.UID
	}
	o.lists[key] = l
	return l, nil
}

// used is how many of quota name (in scope) the tenant holds, besides the reservation of
// uid skip: the objects listed, plus the reservations in st that are not over, plus extra
// (nil: none). A reservation is over once expired, once its object is listed at its
// generation (the list counts it), or once this process's informers saw the object stored
// at that generation before the list was made (then the list would show it, unless it was
// deleted since). Creates of one metadata.name count once, and not at all while an object
// listed holds that name: one at most is stored, the others fail as AlreadyExists (the
// default security group, which every boot may make, is the case).
func (o *objectCount) used(st *computev1.QuotaStatus, name, scope, skip string, extra *computev1.ObjectReservation) (total, pending int64, err error) {
	l, err := o.list(name, scope)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range l.byUID {
		total += c.N
	}
	held := map[string]int64{} // object name (or uid) -> the most reserved for it
	hold := func(r computev1.ObjectReservation) {
		n := r.Counts[name]
		if n <= 0 || scoped(name) && r.Scope != scope {
			return
		}
		key := r.Name
		if key == "" {
			key = r.UID
		} else if uid, taken := l.byName[r.Name]; taken && uid != r.UID {
			return
		}
		held[key] = max(held[key], n)
	}
	for _, r := range st.ObjectReservations {
		if r.UID == skip {
			continue
		}
		if o.isOver(r, l.byUID) {
			o.over[r.UID] = true
			continue
		}
		hold(r)
	}
	if extra != nil {
		hold(*extra)
	}
	for _, n := range held {
		pending += n
	}
	return total + pending, pending, nil
}

// scoped says whether quota name counts per scope (a server group's members, a user's
// keypairs) rather than per tenant.
func scoped(name string) bool { return name == ServerGroupMembers || name == KeyPairs }

func (o *objectCount) isOver(r computev1.ObjectReservation, listed map[string]Counted) bool {
	if !r.Expires.After(o.now) {
		return true
	}
	if c, ok := listed[r.UID]; ok && c.Generation >= r.Generation {
		return true
	}
	return o.seen.before(r.UID, o.listed) >= r.Generation
}

// reserveObject checks c against limits and, unless c is a dry run, adds its reservation
// to st; it answers c's refusal (an *ObjectExceededError) and whether st changed. Only
// the quotas with a limit are reserved: an unlimited one keeps nothing to hold.
func (o *objectCount) reserveObject(st *computev1.QuotaStatus, limits Limits, c ObjectClaim, ttl time.Duration) (error, bool, error) {
	counts := map[string]int64{}
	for name, n := range c.Counts {
		if n > 0 && limits[name] >= 0 {
			counts[name] = n
		}
	}
	if len(counts) == 0 {
		return nil, false, nil
	}
	at := -1
	for i, r := range st.ObjectReservations {
		if r.UID == c.UID {
			at = i
		}
	}
	if at >= 0 && st.ObjectReservations[at].Generation == c.Generation && !o.over[c.UID] {
		return nil, false, nil // the same admission asked again
	}
	r := computev1.ObjectReservation{UID: c.UID, Name: c.Name, Generation: c.Generation, Scope: c.Scope, Counts: counts,
		Expires: metav1.NewTime(o.now.Add(ttl))}
	for _, name := range Names() { // in a fixed order, so that a refusal names the same quota each time
		if _, ok := counts[name]; !ok {
			continue
		}
		// An earlier reservation of c's object (an update's) is replaced by this one.
		without, pending, err := o.used(st, name, c.Scope, c.UID, nil)
		if err != nil {
			return nil, false, err
		}
		with, _, err := o.used(st, name, c.Scope, c.UID, &r)
		if err != nil {
			return nil, false, err
		}
		if with > limits[name] && with > without {
			return &ObjectExceededError{Resource: name, Limit: limits[name], Used: without, Pending: pending}, false, nil
		}
	}
	if c.DryRun {
		return nil, false, nil
	}
	if at >= 0 {
		st.ObjectReservations[at] = r
		delete(o.over, c.UID)
	} else {
		st.ObjectReservations = append(st.ObjectReservations, r)
	}
	return nil, true, nil
}

// prune drops from st the reservations found over (and any expired).
func (o *objectCount) prune(st *computev1.QuotaStatus) {
	kept := st.ObjectReservations[:0]
	for _, r := range st.ObjectReservations {
		if !o.over[r.UID] && r.Expires.After(o.now) {
			kept = append(kept, r)
		}
	}
	st.ObjectReservations = kept
}

// UnexpiredObjects are the object reservations of st that have not expired at now.
func UnexpiredObjects(st computev1.QuotaStatus, now time.Time) []computev1.ObjectReservation {
	var out []computev1.ObjectReservation
	for _, r := range st.ObjectReservations {
		if r.Expires.After(now) {
			out = append(out, r)
		}
	}
	return out
}
