package quota

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Usage is what servers hold of the counted quotas: instances, cores and RAM (MiB).
type Usage = computev1.QuotaUsage

// Add is u plus d.
func Add(u, d Usage) Usage {
	return Usage{Instances: u.Instances + d.Instances, Cores: u.Cores + d.Cores, RAM: u.RAM + d.RAM}
}

// Sub is u minus d.
func Sub(u, d Usage) Usage {
	return Usage{Instances: u.Instances - d.Instances, Cores: u.Cores - d.Cores, RAM: u.RAM - d.RAM}
}

// ExceededError is Nova's TooManyInstances: a 403 "forbidden" with its words.
type ExceededError struct{ Message string }

func (e *ExceededError) Error() string { return e.Message }

// Flavor is what one server of a flavor holds.
type Flavor struct{ VCPUs, RAM int64 }

// FlavorOf is what a server of f holds (nil: nothing, as for a flavor that is gone).
func FlavorOf(f *computev1.Flavor) Flavor {
	if f == nil {
		return Flavor{}
	}
	return Flavor{VCPUs: int64(f.Spec.VCPUs), RAM: f.Spec.RAM}
}

// counted are the quotas a server holds, in Nova's (alphabetical) order of its messages.
var counted = []string{Cores, Instances, RAM}

func get(u Usage, name string) int64 {
	switch name {
	case Cores:
		return u.Cores
	case Instances:
		return u.Instances
	default:
		return u.RAM
	}
}

// Create is how many servers of flavor f a create of minCount to maxCount makes, given
// what the tenant uses: maxCount when all fit, else as many as fit when that is at least
// minCount (Nova's check_num_instances_quota), else Nova's 403 naming every quota the
// request passes ("Quota exceeded for cores, instances: Requested 8, 8, but already used
// 0, 0 of 2, 7 cores, instances"). minCount and maxCount may be past any integer: Nova's
// are Python's. requested is how the instances are written ("3" or "3-5").
func Create(l Limits, used Usage, f Flavor, minCount, maxCount *big.Int, requested string) (*big.Int, error) {
	deltas := map[string]*big.Int{
		Instances: maxCount,
		Cores:     new(big.Int).Mul(maxCount, big.NewInt(f.VCPUs)),
		RAM:       new(big.Int).Mul(maxCount, big.NewInt(f.RAM)),
	}
	overs := over(l, used, deltas)
	if len(overs) == 0 {
		return maxCount, nil
	}
	// How many fit: the headroom of each limited quota, in servers of this flavor.
	var allowed *big.Int
	for name, per := range map[string]int64{Instances: 1, Cores: f.VCPUs, RAM: f.RAM} {
		if l[name] < 0 || per == 0 {
			continue
		}
		n := new(big.Int).Div(big.NewInt(l[name]-get(used, name)), big.NewInt(per)) // floor, as Python's //
		if allowed == nil || n.Cmp(allowed) < 0 {
			allowed = n
		}
	}
	if allowed != nil && allowed.Sign() > 0 && minCount.Cmp(allowed) <= 0 && allowed.Cmp(maxCount) <= 0 {
		return allowed, nil
	}
	reqs := map[string]string{Instances: requested, Cores: deltas[Cores].String(), RAM: deltas[RAM].String()}
	return nil, exceeded(l, used, overs, reqs)
}

// Grow refuses a resize whose growth (d: cores and RAM the new flavor adds) passes the
// tenant's limits, with Nova's words for it; a shrink always fits.
func Grow(l Limits, used Usage, d Usage) error {
	deltas := map[string]*big.Int{}
	reqs := map[string]string{}
	for _, name := range []string{Cores, RAM} {
		if v := get(d, name); v > 0 {
			deltas[name] = big.NewInt(v)
			reqs[name] = fmt.Sprint(v)
		}
	}
	if overs := over(l, used, deltas); len(overs) > 0 {
		return exceeded(l, used, overs, reqs)
	}
	return nil
}

// over are the limited quotas that used plus deltas passes, in message order.
func over(l Limits, used Usage, deltas map[string]*big.Int) []string {
	var out []string
	for _, name := range counted {
		d, ok := deltas[name]
		if !ok || l[name] < 0 || d.Sign() <= 0 {
			continue
		}
		total := new(big.Int).Add(big.NewInt(get(used, name)), d)
		if total.Cmp(big.NewInt(l[name])) > 0 {
			out = append(out, name)
		}
	}
	return out
}

func exceeded(l Limits, used Usage, overs []string, reqs map[string]string) error {
	var r, u, a []string
	for _, name := range overs {
		r = append(r, reqs[name])
		u = append(u, fmt.Sprint(get(used, name)))
		a = append(a, fmt.Sprint(l[name]))
	}
	names := strings.Join(overs, ", ")
	return &ExceededError{Message: fmt.Sprintf("Quota exceeded for %s: Requested %s, but already used %s of %s %s",
		names, strings.Join(r, ", "), strings.Join(u, ", "), strings.Join(a, ", "), names)}
}

// Int is n as an int, saturated at math.MaxInt.
func Int(n *big.Int) int {
	if n.IsInt64() && n.Int64() < math.MaxInt {
		return int(n.Int64())
	}
	return math.MaxInt
}
