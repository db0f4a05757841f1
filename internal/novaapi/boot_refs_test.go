package novaapi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// readLog is an API server reader that records what is read through it.
type readLog struct {
	r    client.Reader
	mu   sync.Mutex
	read []string
}

func (l *readLog) note(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.read = append(l.read, what)
}

func (l *readLog) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	l.note("GET " + typeName(obj) + " " + key.String())
	return l.r.Get(ctx, key, obj, opts...)
}

func (l *readLog) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	l.note("LIST " + typeName(list))
	return l.r.List(ctx, list, opts...)
}

func typeName(o any) string {
	switch o.(type) {
	case *computev1.Image:
		return "image"
	case *computev1.Network:
		return "network"
	case *computev1.SecurityGroup:
		return "securitygroup"
	case *computev1.ServerList:
		return "servers"
	case *computev1.FloatingIPList:
		return "floatingips"
	}
	return "other"
}

// countedQuota is the tenant's Quota as the controller leaves it once it has counted
// used of its servers.
func countedQuota(instances int64, used computev1.QuotaUsage) *computev1.Quota {
	now := metav1.NewTime(base)
	return &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: computev1.QuotaName},
		Spec:   computev1.QuotaLimits{Instances: &instances},
		Status: computev1.QuotaStatus{Used: used, ObservedTime: &now}}
}

const bootBody = `{"server": {"name": "b", "flavorRef": "1", "imageRef": "` + imageUID + `", "networks": [{"uuid": "` + netUID + `"}]}}`

// TestBootFromTheCache: a boot whose image, network, default group and quota the cache has,
// ready, reads none of them from the API server (each was a request to it per boot), and
// the server names what the cache has.
func TestBootFromTheCache(t *testing.T) {
	e := newEnv(t, standard(rules.NewDefaultSecurityGroup(tenant), countedQuota(10, computev1.QuotaUsage{}))...)
	live := &readLog{r: e.c}
	e.h = New(Config{Client: e.c, Live: live, Cache: e.c, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public})
	id := serverOf(e.do(http.MethodPost, "/servers", bootBody).expect(http.StatusAccepted))["id"].(string)
	if len(live.read) > 0 {
		t.Errorf("a boot of what the cache has read %v past it", live.read)
	}
	srv := e.serverByUID(id)
	if srv.Spec.ImageRef != "cirros" || len(srv.Spec.Networks) != 1 || srv.Spec.Networks[0].Name != "net1" ||
		len(srv.Spec.SecurityGroups) != 1 || srv.Spec.SecurityGroups[0] != rules.DefaultSecurityGroup {
		t.Errorf("server made %+v", srv.Spec)
	}
}

// TestBootQuotaFromTheCountedStatus: a boot of one server that the counted Quota has room
// for does not count the tenant's servers (admission reserves it on the same figures); one
// it has no room for is counted, as the API server has the servers, and refused in Nova's
// words.
func TestBootQuotaFromTheCountedStatus(t *testing.T) {
	objs := standard(rules.NewDefaultSecurityGroup(tenant), countedQuota(2, computev1.QuotaUsage{Instances: 1, Cores: 1, RAM: 512}))
	e := newEnv(t, append(objs, server("srv-a", srvUID, base))...)
	live, cache := &readLog{r: e.c}, &readLog{r: e.c}
	e.h = New(Config{Client: e.c, Live: live, Cache: cache, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public})
	e = e.as("demo", "2.37")
	e.do(http.MethodPost, "/servers", bootBody).expect(http.StatusAccepted)
	if read := append(live.read, cache.read...); slices.Contains(read, "LIST servers") {
		t.Errorf("a boot within the counted quota counted the servers: %v", read)
	}
	// The controller's count now sees both servers.
	q := &computev1.Quota{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: computev1.QuotaName}, q); err != nil {
		t.Fatal(err)
	}
	q.Status.Used = computev1.QuotaUsage{Instances: 2, Cores: 2, RAM: 1024}
	if err := e.c.Update(context.Background(), q); err != nil { // the fake has no status subresource for quotas
		t.Fatal(err)
	}
	e.do(http.MethodPost, "/servers", bootBody).expectFault(http.StatusForbidden, "forbidden",
		"Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")
	if n := len(e.servers()); n != 2 {
		t.Errorf("%d servers after the refusal, want 2", n)
	}
}

// TestBootNetworkNamedByAUUID: a network whose name is a UUID has that name as its id
// (Network.NovaID): a boot naming it by it gets it, whether the cache has it or it was made
// a moment ago, and one naming it by its uid finds nothing, as Nova would.
func TestBootNetworkNamedByAUUID(t *testing.T) {
	const name, uid = "7c0e0f3a-1d2b-4c5d-8e9f-0a1b2c3d4e5f", "0d9c8b7a-6f5e-4d3c-2b1a-098765432100"
	named := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID(uid), CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.NetworkSpec{Label: "by-uuid", CIDR: "10.1.0.0/24"}}
	body := func(id string) string {
		return `{"server": {"name": "b", "flavorRef": "1", "imageRef": "` + imageUID + `", "networks": [{"uuid": "` + id + `"}]}}`
	}
	cached := newEnv(t, standard(named)...)
	lagging := newLaggingEnv(t, standard()...)
	made := named.DeepCopy()
	made.ResourceVersion = ""
	if err := lagging.c.Create(context.Background(), made); err != nil {
		t.Fatal(err)
	}
	for which, e := range map[string]*env{"cached": cached, "made a moment ago": lagging} {
		id := serverOf(e.do(http.MethodPost, "/servers", body(name)).expect(http.StatusAccepted))["id"].(string)
		if nets := e.serverByUID(id).Spec.Networks; len(nets) != 1 || nets[0].Name != name {
			t.Errorf("%s: a boot on network %s is on %+v", which, name, nets)
		}
		e.do(http.MethodPost, "/servers", body(uid)).expectFault(http.StatusBadRequest, "badRequest", "Network "+uid+" could not be found.")
	}
}

// TestBootRefusesOnlyOnTheAPIServersCopy: what the cache has not got, or has in a form a
// boot would be refused for, is looked up as the API server has it now, so an image
// activated, a network shared or made a moment ago, through any replica, boots at once.
func TestBootRefusesOnlyOnTheAPIServersCopy(t *testing.T) {
	queued := cirros()
	queued.Status.Status = computev1.ImageQueued
	private := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: "ext", UID: "5a5a5a5a-0000-4000-8000-000000000001", CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.NetworkSpec{Label: "ext", CIDR: "10.2.0.0/24"}}
	e := newLaggingEnv(t, append(standard(), private)...)
	ctx := context.Background()
	// A cache that has cirros still queued.
	e.h = New(Config{Client: e.c, Cache: snapshotOf(t, append(devstackFlavors(), queued, network(), private)), ServerUIDs: listedUIDs{e.c},
		Admins: e.admins, PublicNamespace: public})
	if err := e.c.Delete(ctx, cirros()); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx, cirros()); err != nil { // active, as the API server has it
		t.Fatal(err)
	}
	shared := &computev1.Network{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(private), shared); err != nil {
		t.Fatal(err)
	}
	shared.Spec.Shared = true
	if err := e.c.Update(ctx, shared); err != nil {
		t.Fatal(err)
	}
	fresh := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "fresh", UID: "5a5a5a5a-0000-4000-8000-000000000002", CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.NetworkSpec{Label: "fresh", CIDR: "10.3.0.0/24"}}
	if err := e.c.Create(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	for _, net := range []*computev1.Network{shared, fresh} {
		body := `{"server": {"name": "b", "flavorRef": "1", "imageRef": "` + imageUID + `", "networks": [{"uuid": "` + string(net.UID) + `"}]}}`
		id := serverOf(e.do(http.MethodPost, "/servers", body).expect(http.StatusAccepted))["id"].(string)
		if srv := e.serverByUID(id); srv.Spec.ImageRef != "cirros" || len(srv.Spec.Networks) != 1 || srv.Spec.Networks[0].Name != net.Name {
			t.Errorf("boot on %s made %+v", net.Name, srv.Spec)
		}
	}
}

// serverByUID is the server with that Nova id, as the API server has it.
func (e *env) serverByUID(id string) *computev1.Server {
	e.t.Helper()
	for _, s := range e.servers() {
		if string(s.UID) == id {
			return &s
		}
	}
	e.t.Fatalf("no server %s", id)
	return nil
}

// TestBootDoesNotTakeAnotherTenantsFromTheCache: the cache holds every tenant's images and
// networks; a boot naming another tenant's private one is refused as if it did not exist.
func TestBootDoesNotTakeAnotherTenantsFromTheCache(t *testing.T) {
	const imgID, netID = "5b5b5b5b-0000-4000-8000-000000000001", "5b5b5b5b-0000-4000-8000-000000000002"
	theirs := cirros()
	theirs.Namespace, theirs.Name, theirs.UID, theirs.Spec.Visibility = "other", "mine", imgID, computev1.ImagePrivate
	theirNet := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "net", UID: netID, CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.NetworkSpec{Label: "net", CIDR: "10.4.0.0/24", Shared: true}}
	e := newEnv(t, standard(theirs, theirNet, rules.NewDefaultSecurityGroup(tenant))...).as("demo", "2.37")
	e.do(http.MethodPost, "/servers", `{"server": {"name": "b", "flavorRef": "1", "imageRef": "`+imgID+`", "networks": "none"}}`).
		expectFault(http.StatusBadRequest, "badRequest", "Can not find requested image")
	e.do(http.MethodPost, "/servers", `{"server": {"name": "b", "flavorRef": "1", "imageRef": "`+imageUID+`", "networks": [{"uuid": "`+netID+`"}]}}`).
		expectFault(http.StatusBadRequest, "badRequest", "Network "+netID+" could not be found.")
	if n := len(e.servers()); n != 0 {
		t.Errorf("%d servers made", n)
	}
}
