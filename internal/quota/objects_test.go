package quota_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/testenv"
)

// The object quotas against a real API server (envtest: etcd and kube-apiserver, Kova's
// CRDs), each reservation written by quota.Reserver as the webhooks write it.

var (
	c   client.Client
	ctx = context.Background()
	nth atomic.Int32
)

func TestMain(m *testing.M) {
	env := testenv.NewEnvironment(false)
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	_ = env.Stop()
	os.Exit(code)
}

// tenant is a new namespace whose Quota sets limits.
func tenant(t *testing.T, limits computev1.QuotaLimits) string {
	t.Helper()
	ns := fmt.Sprintf("t%d", nth.Add(1))
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: computev1.QuotaName}, Spec: limits}); err != nil {
		t.Fatal(err)
	}
	return ns
}

func one(name string) map[string]int64 { return map[string]int64{name: 1} }

// claim is a create of one new object holding one of quota name.
func claim(name, scope string) quota.ObjectClaim {
	uid := uuid.NewString()
	return quota.ObjectClaim{UID: uid, Name: "o-" + uid, Generation: 1, Scope: scope, Counts: one(name)}
}

func refusal(err error) *quota.ObjectExceededError {
	var over *quota.ObjectExceededError
	if errors.As(err, &over) {
		return over
	}
	return nil
}

func status(t *testing.T, ns string) computev1.QuotaStatus {
	t.Helper()
	q := &computev1.Quota{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, q); err != nil {
		t.Fatal(err)
	}
	return q.Status
}

func limit(v int64) *int64 { return &v }

// Two replicas' reservers (each its own batching and its own view) admit exactly the
// limit of 24 concurrent creates, for every quota that counts objects; the others get
// the refusal with the figures.
func TestObjectQuotasHoldAcrossReplicas(t *testing.T) {
	for _, name := range []string{quota.ServerGroups, quota.ServerGroupMembers, quota.SecurityGroups, quota.FloatingIPs, quota.KeyPairs} {
		t.Run(name, func(t *testing.T) {
			const l, burst = 3, 24
			lim := computev1.QuotaLimits{}
			quota.Set(&lim, name, limit(l))
			ns := tenant(t, lim)
			replicas := []*quota.Reserver{{Client: c, Live: c}, {Client: c, Live: c}}
			var admitted, refused atomic.Int32
			var wg sync.WaitGroup
			for i := range burst {
				wg.Go(func() {
					err := replicas[i%2].ReserveObjects(ctx, ns, claim(name, "g1"))
					switch over := refusal(err); {
					case err == nil:
						admitted.Add(1)
					case over != nil && over.Resource == name && over.Used == l && over.Limit == l:
						refused.Add(1)
					default:
						t.Errorf("create %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if admitted.Load() != l || refused.Load() != burst-l {
				t.Fatalf("admitted %d, refused %d; want %d and %d", admitted.Load(), refused.Load(), l, burst-l)
			}
			if got := len(status(t, ns).ObjectReservations); got != l {
				t.Errorf("%d reservations stored, want %d", got, l)
			}
			if name == quota.ServerGroupMembers || name == quota.KeyPairs {
				// Members are counted per group, keypairs per user: another has its own.
				if err := replicas[0].ReserveObjects(ctx, ns, claim(name, "g2")); err != nil {
					t.Errorf("another group's or user's: %v", err)
				}
			}
		})
	}
}

// The floating IP spec's case: allocations the shim deleted again before any list
// showed them hold no place once an informer saw them; one stored and listed counts
// once; one never stored counts until it expires.
func TestObjectReservationsEnd(t *testing.T) {
	ns := tenant(t, computev1.QuotaLimits{FloatingIPs: limit(2)})
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	seen := &quota.Seen{}
	r := &quota.Reserver{Client: c, Live: c, Seen: seen, Now: clock}

	stored := &computev1.FloatingIP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "fip-"},
		Spec: computev1.FloatingIPSpec{Pool: "public"}}
	if err := c.Create(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if err := r.ReserveObjects(ctx, ns, quota.ObjectClaim{UID: string(stored.UID), Generation: 1, Counts: one(quota.FloatingIPs)}); err != nil {
		t.Fatalf("the stored one: %v", err)
	}
	deleted := claim(quota.FloatingIPs, "")
	if err := r.ReserveObjects(ctx, ns, deleted); err != nil {
		t.Fatalf("a listed object and its reservation count once, yet: %v", err)
	}
	if over := refusal(r.ReserveObjects(ctx, ns, claim(quota.FloatingIPs, ""))); over == nil || over.Used != 2 {
		t.Fatalf("a third past a limit of 2: %v", over)
	}
	if dry := claim(quota.FloatingIPs, ""); refusal(r.ReserveObjects(ctx, ns, quota.ObjectClaim{UID: dry.UID, Generation: 1,
		Counts: dry.Counts, DryRun: true})) == nil {
		t.Fatal("a dry run past the limit was admitted")
	}

	seen.Stored(deleted.UID, 1) // the informer saw it made, then deleted, between two lists
	seen.Deleted(deleted.UID)
	next := claim(quota.FloatingIPs, "")
	if err := r.ReserveObjects(ctx, ns, next); err != nil {
		t.Fatalf("the place of one deleted before any list showed it is still held: %v", err)
	}
	for _, res := range status(t, ns).ObjectReservations {
		if res.UID == deleted.UID {
			t.Errorf("the deleted one's reservation was kept: %+v", res)
		}
	}

	// next is never stored: it holds its place until it expires.
	if refusal(r.ReserveObjects(ctx, ns, claim(quota.FloatingIPs, ""))) == nil {
		t.Fatal("admitted while an unexpired reservation fills the quota")
	}
	mu.Lock()
	now = now.Add(quota.ObjectTTL + time.Second)
	mu.Unlock()
	if err := r.ReserveObjects(ctx, ns, claim(quota.FloatingIPs, "")); err != nil {
		t.Fatalf("an expired reservation still holds its place: %v", err)
	}
}

// Rules are counted per tenant across its groups; an update reserves the rules it adds
// until the group is listed at the generation it makes.
func TestSecurityGroupRulesByGeneration(t *testing.T) {
	ns := tenant(t, computev1.QuotaLimits{SecurityGroupRules: limit(5)})
	r := &quota.Reserver{Client: c, Live: c}
	g := &computev1.SecurityGroup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: computev1.SecurityGroupSpec{Rules: rules.EgressRules()}}
	if err := c.Create(ctx, g); err != nil {
		t.Fatal(err)
	}
	rulesOf := func(n int64) map[string]int64 { return map[string]int64{quota.SecurityGroupRules: n} }
	// An update of web to generation 2 adding 2 rules: 2 stored + 2 reserved.
	if err := r.ReserveObjects(ctx, ns, quota.ObjectClaim{UID: string(g.UID), Generation: 2, Counts: rulesOf(2)}); err != nil {
		t.Fatal(err)
	}
	if over := refusal(r.ReserveObjects(ctx, ns, quota.ObjectClaim{UID: uuid.NewString(), Generation: 1, Counts: rulesOf(2)})); over == nil || over.Used != 4 {
		t.Fatalf("another group's 2 rules past 5 with 4 held: %v", over)
	}
	g.Spec.Rules = rules.DefaultSecurityGroupRules() // the two egress rules and two more
	if err := c.Update(ctx, g); err != nil {
		t.Fatal(err)
	}
	if g.Generation != 2 || len(g.Spec.Rules) != 4 {
		t.Fatalf("generation %d with %d rules", g.Generation, len(g.Spec.Rules))
	}
	// Listed at generation 2: its 4 rules count once, so one more fits.
	if err := r.ReserveObjects(ctx, ns, quota.ObjectClaim{UID: uuid.NewString(), Generation: 1, Counts: rulesOf(1)}); err != nil {
		t.Fatalf("the update's rules counted twice: %v", err)
	}
}

// Creates of one name count once, and not at all while a stored object has the name:
// one at most is stored, the others fail as AlreadyExists. Every boot may make the
// default security group, and those creates must not fill the quota.
func TestCreatesOfOneNameCountOnce(t *testing.T) {
	ns := tenant(t, computev1.QuotaLimits{SecurityGroups: limit(3)})
	r := &quota.Reserver{Client: c, Live: c}
	named := func(name string) quota.ObjectClaim {
		return quota.ObjectClaim{UID: uuid.NewString(), Name: name, Generation: 1, Counts: one(quota.SecurityGroups)}
	}
	for range 4 {
		if err := r.ReserveObjects(ctx, ns, named("web")); err != nil {
			t.Fatalf("another create of web: %v", err)
		}
	}
	if err := c.Create(ctx, rules.NewDefaultSecurityGroup(ns)); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := r.ReserveObjects(ctx, ns, named(rules.DefaultSecurityGroup)); err != nil {
			t.Fatalf("a create of the stored default group: %v", err)
		}
	}
	if err := r.ReserveObjects(ctx, ns, named("db")); err != nil {
		t.Fatalf("the third group: %v", err)
	}
	if over := refusal(r.ReserveObjects(ctx, ns, named("cache"))); over == nil || over.Used != 3 {
		t.Fatalf("a fourth group past 3: %v", over)
	}
}

// Unlimited (-1) reserves nothing and writes nothing, and neither does a dry run.
func TestUnlimitedReservesNothing(t *testing.T) {
	ns := tenant(t, computev1.QuotaLimits{ServerGroups: limit(-1)})
	r := &quota.Reserver{Client: c, Live: c}
	q := &computev1.Quota{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, q); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := r.ReserveObjects(ctx, ns, claim(quota.ServerGroups, "")); err != nil {
			t.Fatal(err)
		}
		dry := claim(quota.FloatingIPs, "") // limited (Neutron's 50)
		dry.DryRun = true
		if err := r.ReserveObjects(ctx, ns, dry); err != nil {
			t.Fatal(err)
		}
	}
	after := &computev1.Quota{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != q.ResourceVersion {
		t.Errorf("an unlimited quota or a dry run was written: %+v", after.Status)
	}
}

// firstList tells when the first list through it has been answered.
type firstList struct {
	client.Reader
	once   sync.Once
	listed chan struct{}
}

func (f *firstList) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := f.Reader.List(ctx, list, opts...)
	f.once.Do(func() { close(f.listed) })
	return err
}

// An informer that tells of a deletion only after the check listed (it lags the API server
// under load) does not make a refusal: a refusal that counts creates not seen yet looks
// again for up to a second.
func TestRefusalWaitsForALaggingInformer(t *testing.T) {
	ns := tenant(t, computev1.QuotaLimits{FloatingIPs: limit(1)})
	seen := &quota.Seen{}
	if err := (&quota.Reserver{Client: c, Live: c, Seen: seen}).ReserveObjects(ctx, ns, claim(quota.FloatingIPs, "")); err != nil {
		t.Fatal(err)
	}
	gone := status(t, ns).ObjectReservations[0].UID // made and deleted; the informer has not said so yet
	live := &firstList{Reader: c, listed: make(chan struct{})}
	r := &quota.Reserver{Client: c, Live: live, Seen: seen}
	done := make(chan error, 1)
	go func() { done <- r.ReserveObjects(ctx, ns, claim(quota.FloatingIPs, "")) }()
	<-live.listed
	seen.Stored(gone, 1)
	seen.Deleted(gone)
	if err := <-done; err != nil {
		t.Fatalf("refused on a deletion the informer told late: %v", err)
	}
}
