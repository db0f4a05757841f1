package quota

import (
	"math/big"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func ptr(v int64) *int64 { return &v }

func num(s string) *big.Int {
	n, _ := new(big.Int).SetString(s, 10)
	return n
}

var (
	tiny   = Flavor{VCPUs: 1, RAM: 512}  // m1.tiny
	small  = Flavor{VCPUs: 1, RAM: 2048} // m1.small
	medium = Flavor{VCPUs: 2, RAM: 4096} // m1.medium
	large  = Flavor{VCPUs: 4, RAM: 8192} // m1.large
)

// TestCreateSaysWhatNovaSays: every message was answered by the nova-peer (Zed) for the
// same limits, usage and request.
func TestCreateSaysWhatNovaSays(t *testing.T) {
	set := Effective(nil, &computev1.QuotaLimits{Instances: ptr(7), Cores: ptr(2), RAM: ptr(4096)})
	none := Effective(nil, &computev1.QuotaLimits{Instances: ptr(0), Cores: ptr(2), RAM: ptr(4096)})
	one := Effective(nil, &computev1.QuotaLimits{Instances: ptr(1), Cores: ptr(1), RAM: ptr(1024)})
	defaults := Effective(nil, nil)
	tests := []struct {
		name             string
		l                Limits
		used             Usage
		f                Flavor
		minCount, maxCnt string
		made             string
		msg              string
	}{
		{"cores and ram", set, Usage{}, large, "1", "1", "", "Quota exceeded for cores, ram: Requested 4, 8192, but already used 0, 0 of 2, 4096 cores, ram"},
		{"cores only", set, Usage{}, tiny, "3", "3", "", "Quota exceeded for cores: Requested 3, but already used 0 of 2 cores"},
		{"two servers of two cores", set, Usage{}, medium, "2", "2", "", "Quota exceeded for cores, ram: Requested 4, 8192, but already used 0, 0 of 2, 4096 cores, ram"},
		{"cores and instances", set, Usage{}, tiny, "8", "8", "", "Quota exceeded for cores, instances: Requested 8, 8, but already used 0, 0 of 2, 7 cores, instances"},
		{"no instances at all", none, Usage{}, tiny, "1", "1", "", "Quota exceeded for instances: Requested 1, but already used 0 of 0 instances"},
		{"all three", none, Usage{}, large, "1", "1", "", "Quota exceeded for cores, instances, ram: Requested 4, 1, 8192, but already used 0, 0, 0 of 2, 0, 4096 cores, instances, ram"},
		{"full", one, Usage{Instances: 1, Cores: 1, RAM: 512}, tiny, "1", "1", "", "Quota exceeded for cores, instances: Requested 1, 1, but already used 1, 1 of 1, 1 cores, instances"},
		{"a count past any integer", defaults, Usage{}, tiny, "99999999999999999999", "99999999999999999999", "",
			"Quota exceeded for cores, instances, ram: Requested 99999999999999999999, 99999999999999999999, 51199999999999999999488, but already used 0, 0, 0 of 20, 10, 51200 cores, instances, ram"},
		{"past int32", defaults, Usage{}, tiny, "2147483648", "2147483648", "",
			"Quota exceeded for cores, instances, ram: Requested 2147483648, 2147483648, 1099511627776, but already used 0, 0, 0 of 20, 10, 51200 cores, instances, ram"},
		{"past the quota by instances", defaults, Usage{}, tiny, "11", "11", "", "Quota exceeded for instances: Requested 11, but already used 0 of 10 instances"},
		{"a range, max_count counted", defaults, Usage{}, small, "30", "50", "",
			"Quota exceeded for cores, instances, ram: Requested 50, 30-50, 102400, but already used 0, 0, 0 of 20, 10, 51200 cores, instances, ram"},
		{"as many as fit", defaults, Usage{}, tiny, "3", "50", "10", ""},
		{"as many as the cores allow", set, Usage{}, tiny, "1", "5", "2", ""},
		{"all fit", defaults, Usage{Instances: 3, Cores: 3, RAM: 1536}, tiny, "1", "7", "7", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requested := tt.minCount
			if tt.minCount != tt.maxCnt {
				requested += "-" + tt.maxCnt
			}
			n, err := Create(tt.l, tt.used, tt.f, num(tt.minCount), num(tt.maxCnt), requested)
			if tt.msg != "" {
				if err == nil || err.Error() != tt.msg {
					t.Fatalf("got %v, %v; want %q", n, err, tt.msg)
				}
				return
			}
			if err != nil || n.String() != tt.made {
				t.Fatalf("got %v, %v; want %s", n, err, tt.made)
			}
		})
	}
}

// TestGrowSaysWhatNovaSays: a resize counts what the new flavor adds (the nova-peer's
// answers for m1.tiny to m1.small and to m1.medium with 1 core and 1024 MiB).
func TestGrowSaysWhatNovaSays(t *testing.T) {
	l := Effective(nil, &computev1.QuotaLimits{Instances: ptr(1), Cores: ptr(1), RAM: ptr(1024)})
	used := Usage{Instances: 1, Cores: 1, RAM: 512}
	for _, tt := range []struct {
		to  Flavor
		msg string
	}{
		{small, "Quota exceeded for ram: Requested 1536, but already used 512 of 1024 ram"},
		{medium, "Quota exceeded for cores, ram: Requested 1, 3584, but already used 1, 512 of 1, 1024 cores, ram"},
	} {
		err := Grow(l, used, Usage{Cores: tt.to.VCPUs - tiny.VCPUs, RAM: tt.to.RAM - tiny.RAM})
		if err == nil || err.Error() != tt.msg {
			t.Errorf("got %v, want %q", err, tt.msg)
		}
	}
	if err := Grow(l, Usage{Instances: 1, Cores: 1, RAM: 1024}, Usage{RAM: -512}); err != nil {
		t.Errorf("a shrink was refused: %v", err)
	}
}

// TestEffectiveLayers: the tenant's value over the class's over Nova's default.
func TestEffectiveLayers(t *testing.T) {
	l := Effective(&computev1.QuotaLimits{Instances: ptr(50), Cores: ptr(-1)}, &computev1.QuotaLimits{Instances: ptr(3)})
	if l[Instances] != 3 || l[Cores] != -1 || l[RAM] != 51200 || l[KeyPairs] != 100 || l[FloatingIPs] != 50 || l[SecurityGroups] != 10 || l[SecurityGroupRules] != 100 || len(l) != 14 {
		t.Errorf("limits %v", l)
	}
}

func srv(uid, flavor string, deleting bool) computev1.Server {
	s := computev1.Server{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid)}, Spec: computev1.ServerSpec{FlavorRef: flavor}}
	if deleting {
		now := metav1.Now()
		s.DeletionTimestamp = &now
	}
	return s
}

// TestRecountKeepsWhatItHasNotSeen: a reservation counts until a count sees its server (a
// resize's: with its new flavor) or it expires; servers being deleted hold nothing. The
// reservations of counted objects pass through until they expire.
func TestRecountKeepsWhatItHasNotSeen(t *testing.T) {
	now := time.Now()
	later, earlier := metav1.NewTime(now.Add(time.Minute)), metav1.NewTime(now.Add(-time.Second))
	flavors := func(ref string) Flavor { return map[string]Flavor{"1": tiny, "2": small}[ref] }
	st := computev1.QuotaStatus{Reservations: []computev1.QuotaReservation{
		{UID: "a", FlavorRef: "1", Usage: Usage{Instances: 1, Cores: 1, RAM: 512}, Expires: later},   // seen
		{UID: "b", FlavorRef: "1", Usage: Usage{Instances: 1, Cores: 1, RAM: 512}, Expires: later},   // on its way
		{UID: "c", FlavorRef: "1", Usage: Usage{Instances: 1, Cores: 1, RAM: 512}, Expires: earlier}, // failed
		{UID: "d", FlavorRef: "2", Usage: Usage{RAM: 1536}, Expires: later},                          // resize not seen yet
		{UID: "e", FlavorRef: "2", Usage: Usage{RAM: 1536}, Expires: later},                          // resize seen
		{UID: "f", FlavorRef: "2", Usage: Usage{RAM: 1536}, Expires: later},                          // its server is gone
		{UID: "h", FlavorRef: "1", Usage: Usage{Instances: 1, Cores: 1, RAM: 512}, Expires: later},   // made and deleted unseen
	}, ObjectReservations: []computev1.ObjectReservation{
		{UID: "fip-1", Counts: map[string]int64{FloatingIPs: 1}, Expires: later},   // the count of servers leaves it to admission
		{UID: "fip-2", Counts: map[string]int64{FloatingIPs: 1}, Expires: earlier}, // expired
	}}
	servers := []computev1.Server{srv("a", "1", false), srv("d", "1", false), srv("e", "2", false), srv("g", "2", true)}
	got := Recount(st, servers, flavors, func(uid string) bool { return uid == "h" }, now)
	want := Usage{Instances: 3 + 1, Cores: 3 + 1, RAM: 512 + 512 + 2048 + 512 + 1536}
	if got.Used != want {
		t.Errorf("used %+v, want %+v", got.Used, want)
	}
	var kept []string
	for _, r := range got.Reservations {
		kept = append(kept, r.UID)
	}
	if len(kept) != 2 || kept[0] != "b" || kept[1] != "d" {
		t.Errorf("kept %v, want [b d]", kept)
	}
	if objs := got.ObjectReservations; len(objs) != 1 || objs[0].UID != "fip-1" {
		t.Errorf("object reservations kept %+v, want fip-1's", objs)
	}
}
