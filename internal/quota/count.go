package quota

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Holds is what one server holds: a server being deleted holds nothing (Nova frees its
// quota when the delete is accepted), else one instance and the cores and RAM of the larger
// of the flavor it asks for (spec, which admission counted) and the one it runs (status): a
// resize holds the larger until the server has it.
func Holds(srv *computev1.Server, flavor func(ref string) Flavor) Usage {
	if srv.DeletionTimestamp != nil {
		return Usage{}
	}
	f := flavor(srv.Spec.FlavorRef)
	if srv.Status.Flavor != "" && srv.Status.Flavor != srv.Spec.FlavorRef {
		running := flavor(srv.Status.Flavor)
		f = Flavor{VCPUs: max(f.VCPUs, running.VCPUs), RAM: max(f.RAM, running.RAM)}
	}
	return Usage{Instances: 1, Cores: f.VCPUs, RAM: f.RAM}
}

// Count is what servers hold together.
func Count(servers []computev1.Server, flavor func(ref string) Flavor) Usage {
	var u Usage
	for i := range servers {
		u = Add(u, Holds(&servers[i], flavor))
	}
	return u
}

// Recount is a quota's status from a count of the tenant's servers: what they hold, plus
// each reservation the count has not seen yet. A reservation is seen once its server is
// there with its flavor (a create's: the server at all); a resize's whose server is gone
// is over too; one past its expiry is dropped (its create or resize failed after
// admission). A reservation whose server is known to be gone (gone, which may be nil) is
// over too: a server made and deleted between two counts was never seen. servers must come
// from one list made after st was read, so that a reservation dropped here is in the count.
// The reservations of counted objects stay as they are until they expire: a check of their
// quota lists the objects and ends them (objects.go).
func Recount(st computev1.QuotaStatus, servers []computev1.Server, flavor func(ref string) Flavor, gone func(uid string) bool, now time.Time) computev1.QuotaStatus {
	byUID := make(map[string]*computev1.Server, len(servers))
	for i := range servers {
		byUID[string(servers[i].UID)] = &servers[i]
	}
	out := computev1.QuotaStatus{Used: Count(servers, flavor), ObjectReservations: UnexpiredObjects(st, now)}
	for _, r := range st.Reservations {
		srv, there := byUID[r.UID]
		switch {
		case !r.Expires.After(now):
			continue
		case there && (r.Usage.Instances > 0 || srv.Spec.FlavorRef == r.FlavorRef || srv.Status.Flavor == r.FlavorRef ||
			srv.DeletionTimestamp != nil):
			continue
		case !there && (r.Usage.Instances == 0 || gone != nil && gone(r.UID)):
			continue
		}
		out.Reservations = append(out.Reservations, r)
		out.Used = Add(out.Used, r.Usage)
	}
	t := metav1.NewTime(now)
	out.ObservedTime = &t
	return out
}

// NextExpiry is when the first of st's reservations expires, or zero.
func NextExpiry(st computev1.QuotaStatus) time.Time {
	var first time.Time
	for _, r := range st.Reservations {
		if first.IsZero() || r.Expires.Before(&metav1.Time{Time: first}) {
			first = r.Expires.Time
		}
	}
	return first
}
