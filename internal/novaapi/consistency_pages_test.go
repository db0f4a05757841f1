package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/uidindex"
)

// countingReader is the API server as the handler reads it past the cache, counting the
// servers its LISTs return.
type countingReader struct {
	r      client.Reader
	mu     sync.Mutex
	listed int
	// unlabelled counts the LISTs of servers without a label.
	unlabelled int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.r.Get(ctx, key, obj, opts...)
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := c.r.List(ctx, list, opts...)
	o := (&client.ListOptions{}).ApplyOptions(opts)
	if o.LabelSelector != nil {
		reqs, _ := o.LabelSelector.Requirements()
		if slices.ContainsFunc(reqs, func(r labels.Requirement) bool { return r.Operator() == selection.DoesNotExist }) {
			c.mu.Lock()
			c.unlabelled++
			c.mu.Unlock()
		}
	}
	if _, ok := list.(*metav1.PartialObjectMetadataList); ok || fmt.Sprintf("%T", list) == "*v1alpha1.ServerList" {
		c.mu.Lock()
		c.listed += meta.LenList(list)
		c.mu.Unlock()
	}
	return err
}

func (c *countingReader) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.listed
	c.listed = 0
	return n
}

// labelledFleet is n servers made 10 s apart, the last a minute ago, labelled as the
// admission webhook labels them.
func labelledFleet(n int) []*computev1.Server {
	first := time.Now().Truncate(time.Second).Add(-time.Minute - time.Duration(n)*10*time.Second)
	out := make([]*computev1.Server, n)
	for i := range out {
		s := server(fmt.Sprintf("srv-%03d", i), fmt.Sprintf("00000000-0000-0000-0000-%012d", i), first.Add(time.Duration(i)*10*time.Second))
		s.Labels = rules.CreatedLabels(s.CreationTimestamp.Time)
		out[i] = s
	}
	return out
}

// objects are the servers as client objects, after extra.
func objects(fleet []*computev1.Server, extra ...client.Object) []client.Object {
	out := extra
	for _, s := range fleet {
		out = append(out, s)
	}
	return out
}

// pagedEnv is a lagging env (the cache never catches up) over a labelled fleet, with the
// LISTs past the cache counted.
func pagedEnv(t *testing.T, fleet []*computev1.Server) (*env, *countingReader) {
	t.Helper()
	return pagedEnvWith(t, fleet, func(c *countingReader) client.Reader { return c })
}

// pagedEnvWith is pagedEnv with the handler reading past the cache through wrap's reader.
func pagedEnvWith(t *testing.T, fleet []*computev1.Server, wrap func(*countingReader) client.Reader) (*env, *countingReader) {
	t.Helper()
	objs := objects(fleet)
	e := newEnvWith(t, bumpGeneration, standard(objs...)...)
	live := &countingReader{r: e.c}
	cached := snapshotOf(t, standard(objs...))
	e.h = New(Config{Client: e.c, Live: wrap(live), Cache: cached, ServerUIDs: listedUIDs{cached}, Admins: e.admins, PublicNamespace: public})
	return e, live
}

// walk reads /servers/detail page by page and returns the ids and the status of each.
func walk(t *testing.T, e *env, limit int) ([]string, map[string]string) {
	t.Helper()
	var ids []string
	status := map[string]string{}
	next := fmt.Sprintf("/servers/detail?limit=%d", limit)
	for next != "" {
		m := e.do(http.MethodGet, next, "").expect(200).object()
		for _, s := range m["servers"].([]any) {
			srv := s.(map[string]any)
			ids = append(ids, srv["id"].(string))
			status[srv["id"].(string)] = srv["status"].(string)
		}
		next = ""
		if links, _ := m["servers_links"].([]any); len(links) > 0 {
			next = fmt.Sprintf("/servers/detail?limit=%d&marker=%s", limit, ids[len(ids)-1])
		}
	}
	return ids, status
}

// TestPageListsItsSpan: a page of a list in creation order lists the servers of its own
// creation-time buckets past the cache, not the fleet, and still shows what was written
// since the cache saw the fleet: a server made in its span, one deleted, one whose state
// changed; what changed outside its span waits for the page that shows it.
func TestPageListsItsSpan(t *testing.T) {
	fleet := labelledFleet(200)
	e, live := pagedEnv(t, fleet)

	ids, _ := walk(t, e, 20)
	if len(ids) != len(fleet) {
		t.Fatalf("the walk saw %d servers of %d", len(ids), len(fleet))
	}
	for i, id := range ids {
		if want := string(fleet[len(fleet)-1-i].UID); id != want {
			t.Fatalf("server %d of the walk is %s, want %s (newest first)", i, id, want)
		}
	}
	// A page of 20 spans 200 s: its LIST holds the buckets of 10 s around them (each
	// server alone in its bucket), about 21 servers, not the fleet; the first page spans
	// up to now.
	if n := live.take(); n > 2*len(fleet) {
		t.Errorf("the walk of 10 pages listed %d servers past the cache; a LIST of the fleet per page is %d", n, 10*len(fleet))
	}

	gone, stopped := fleet[120], fleet[60]
	made := writeElsewhere(t, e, fleet[100].CreationTimestamp.Add(5*time.Second), gone, stopped)

	ids, status := walk(t, e, 20)
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if !seen[string(made.UID)] || seen[string(gone.UID)] || len(ids) != len(fleet) {
		t.Errorf("after a create and a delete elsewhere the walk saw %d servers, the new one %v, the deleted one %v", len(ids), seen[string(made.UID)], seen[string(gone.UID)])
	}
	if st := status[string(stopped.UID)]; st != "SHUTOFF" {
		t.Errorf("a server stopped elsewhere is listed %s", st)
	}
	if n := live.take(); n > 3*len(fleet) {
		t.Errorf("the walk listed %d servers past the cache", n)
	}
}

// writeElsewhere writes as through "another replica", which a snapshot cache never sees: a
// server made at the time given (labelled as the webhook labels it), gone deleted, stopped
// stopped. It returns the server made.
func writeElsewhere(t *testing.T, e *env, at time.Time, gone, stopped *computev1.Server) *computev1.Server {
	t.Helper()
	ctx := context.Background()
	made := server("srv-new", "5a3e43f6-1c2d-4a38-8d5e-1b3f6c7d8e90", at)
	made.ResourceVersion = ""
	made.Labels = rules.CreatedLabels(made.CreationTimestamp.Time)
	if err := e.c.Create(ctx, made); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	cur := &computev1.Server{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(stopped), cur); err != nil {
		t.Fatal(err)
	}
	inState(cur, lifecycle.VMStopped, "", lifecycle.PowerShutdown)
	if err := e.c.Status().Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	return made
}

// TestPageListsUnlabelledOnlyWhileAny: the pages of a tenant whose servers all carry the
// creation-time label list their span alone, a scan of the tenant's servers each, not two;
// while the tenant has a server without it, they list those too.
func TestPageListsUnlabelledOnlyWhileAny(t *testing.T) {
	e, live := pagedEnv(t, labelledFleet(30))
	if ids, _ := walk(t, e, 7); len(ids) != 30 {
		t.Fatalf("the walk saw %d servers of 30", len(ids))
	}
	if live.unlabelled != 0 {
		t.Errorf("a labelled fleet's walk listed the servers without the label %d times", live.unlabelled)
	}
	fleet := labelledFleet(30)
	fleet[3].Labels = nil
	e, live = pagedEnv(t, fleet)
	if ids, _ := walk(t, e, 7); len(ids) != 30 {
		t.Fatalf("the walk saw %d servers of 30", len(ids))
	}
	if live.unlabelled == 0 {
		t.Error("with a server without the label, no page listed the servers without it")
	}
}

// TestPageWithoutLabels: servers made before the labels were stamped are in no bucket, and
// every page lists them too.
func TestPageWithoutLabels(t *testing.T) {
	fleet := labelledFleet(30)
	old := fleet[3]
	old.Labels = nil
	e, _ := pagedEnv(t, fleet)
	cur := &computev1.Server{}
	if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(old), cur); err != nil {
		t.Fatal(err)
	}
	inState(cur, lifecycle.VMStopped, "", lifecycle.PowerShutdown)
	if err := e.c.Status().Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	ids, status := walk(t, e, 7)
	if len(ids) != len(fleet) || status[string(old.UID)] != "SHUTOFF" {
		t.Errorf("walk saw %d servers; the unlabelled one, stopped elsewhere, is %s", len(ids), status[string(old.UID)])
	}
}

// versionReader is a reading client that lists servers' versions itself, as nova-api's
// does by the Servers' table, from the metadata of the reader under it; noColumns answers
// as one would on a Server CRD without the columns.
type versionReader struct {
	*countingReader
	noColumns bool
	mu        sync.Mutex
	calls     int
}

func (v *versionReader) ListServerVersions(ctx context.Context, ns string, sel labels.Selector) ([]ServerVersion, error) {
	v.mu.Lock()
	v.calls++
	v.mu.Unlock()
	if v.noColumns {
		return nil, fmt.Errorf("reading the table: %w", ErrNoVersionColumns)
	}
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(computev1.GroupVersion.WithKind("ServerList"))
	if err := v.r.List(ctx, l, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	out := make([]ServerVersion, len(l.Items))
	for i, m := range l.Items {
		out[i] = ServerVersion{Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion}
	}
	return out, nil
}

// TestPageChecksByTheVersionLister: a reading client that lists servers' versions is what
// every page is checked by, and what it names is what the walk shows (a server made, one
// deleted and one stopped elsewhere); one that says its table has not got the columns is
// passed over for the metadata, and the walk shows the same.
func TestPageChecksByTheVersionLister(t *testing.T) {
	for _, noColumns := range []bool{false, true} {
		fleet := labelledFleet(60)
		var live *versionReader
		e, counted := pagedEnvWith(t, fleet, func(c *countingReader) client.Reader {
			live = &versionReader{countingReader: c, noColumns: noColumns}
			return live
		})

		gone, stopped := fleet[40], fleet[20]
		made := writeElsewhere(t, e, fleet[30].CreationTimestamp.Add(5*time.Second), gone, stopped)
		counted.take()
		ids, status := walk(t, e, 10)
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if !seen[string(made.UID)] || seen[string(gone.UID)] || len(ids) != len(fleet) || status[string(stopped.UID)] != "SHUTOFF" {
			t.Errorf("no columns %v: the walk saw %d servers, the new one %v, the deleted one %v, the stopped one %s",
				noColumns, len(ids), seen[string(made.UID)], seen[string(gone.UID)], status[string(stopped.UID)])
		}
		if live.calls == 0 {
			t.Errorf("no columns %v: no page asked the lister", noColumns)
		}
		// The servers read again (the made and the stopped one) are GETs; a metadata LIST is
		// made only when the lister has not got the columns.
		if listed := counted.take(); noColumns != (listed > 0) {
			t.Errorf("no columns %v: the pages listed %d servers' metadata", noColumns, listed)
		}
	}
}

// TestUncachedServerFoundByTheVersionLister: a server the cache has not got (made through
// another replica a moment ago) is shown, and an id no server has is a 404, by the lister's
// versions, not a metadata LIST of the tenant's servers.
func TestUncachedServerFoundByTheVersionLister(t *testing.T) {
	fleet := labelledFleet(5)
	var live *versionReader
	e, counted := pagedEnvWith(t, fleet, func(c *countingReader) client.Reader {
		live = &versionReader{countingReader: c}
		return live
	})
	made := writeElsewhere(t, e, fleet[2].CreationTimestamp.Add(time.Second), fleet[4], fleet[3])
	counted.take()
	m := e.do(http.MethodGet, "/servers/"+string(made.UID), "").expect(200).object()
	if id := m["server"].(map[string]any)["id"]; id != string(made.UID) {
		t.Errorf("GET /servers/%s showed %v", made.UID, id)
	}
	e.do(http.MethodGet, "/servers/"+string(fleet[4].UID), "").expect(404)
	if live.calls < 2 {
		t.Errorf("the lister was asked %d times for two servers the cache has not got right", live.calls)
	}
	if n := counted.take(); n != 0 {
		t.Errorf("finding them listed %d servers' metadata", n)
	}
}

// checkFirstReader is the API server past the cache, where a read of a ServerAction waits
// for the page's check (a LIST) to have gone out, then runs onAction.
type checkFirstReader struct {
	*countingReader
	t        *testing.T
	listed   chan struct{}
	once     sync.Once
	onAction func(ctx context.Context, key client.ObjectKey) error
}

func (r *checkFirstReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.once.Do(func() { close(r.listed) })
	return r.countingReader.List(ctx, list, opts...)
}

func (r *checkFirstReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*computev1.ServerAction); ok {
		select {
		case <-r.listed:
		case <-time.After(5 * time.Second):
			r.t.Error("the servers' actions were read before the page's check went out")
		}
		if err := r.onAction(ctx, key); err != nil {
			return err
		}
	}
	return r.countingReader.Get(ctx, key, obj, opts...)
}

// TestPageCheckedWhileActionsRead: a page's check goes out before its servers' actions are
// read (it needs only their creation times); a server found deleted while they are read
// (its action finished, and the server gone when read again) is left out of the page, which
// is chosen again full and checked for what it then spans: the walk shows every other
// server once.
func TestPageCheckedWhileActionsRead(t *testing.T) {
	fleet := labelledFleet(30)
	doomed := fleet[25] // on the first page, newest first
	doomed.Annotations[annPendingAction] = doomed.Name + "-stop"
	action := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: doomed.Name + "-stop",
		CreationTimestamp: metav1.NewTime(doomed.CreationTimestamp.Add(time.Hour))},
		Spec: computev1.ServerActionSpec{ServerName: doomed.Name, Action: computev1.ActionStop}}
	objs := objects(fleet, action)
	e := newEnvWith(t, bumpGeneration, standard(objs...)...)
	live := &checkFirstReader{countingReader: &countingReader{r: e.c}, t: t, listed: make(chan struct{})}
	finished := false
	live.onAction = func(ctx context.Context, key client.ObjectKey) error {
		if finished {
			return nil
		}
		finished = true
		// The action ends, written after the server (as an etcd revision would be), and
		// the server is deleted.
		sa := &computev1.ServerAction{}
		if err := e.c.Get(ctx, key, sa); err != nil {
			return err
		}
		sa.Status.Phase = computev1.ActionSucceeded
		for range 2 {
			if err := e.c.Status().Update(ctx, sa); err != nil {
				return err
			}
		}
		return e.c.Delete(ctx, doomed.DeepCopy())
	}
	cached := snapshotOf(t, standard(objs...))
	e.h = New(Config{Client: e.c, Live: live, Cache: cached, ServerUIDs: listedUIDs{cached}, Admins: e.admins, PublicNamespace: public})

	ids, _ := walk(t, e, 10)
	if !finished {
		t.Fatal("the pending action was not read past the cache")
	}
	var want []string
	for _, s := range fleet {
		if s != doomed {
			want = append(want, string(s.UID))
		}
	}
	slices.Reverse(want) // newest first, Nova's default
	if !slices.Equal(ids, want) {
		t.Errorf("the walk shows %d servers %v;\nwant the %d but the deleted one, each once, newest first: %v", len(ids), ids, len(want), want)
	}
}

// TestDeletedServerIsA404WithoutAList: a server the informer saw deleted is a 404 at once,
// asking the API server nothing (the answer a client that deleted it polls for); one
// deleted where this replica has not seen it yet is a 404 too, found by the lister.
func TestDeletedServerIsA404WithoutAList(t *testing.T) {
	fleet := labelledFleet(5)
	objs := objects(fleet)
	e := newEnvWith(t, bumpGeneration, standard(objs...)...)
	live := &versionReader{countingReader: &countingReader{r: e.c}}
	uids := uidindex.New()
	uids.RememberDeleted(10)
	for _, s := range fleet {
		uids.OnAdd(s, true)
	}
	e.h = New(Config{Client: e.c, Live: live, Cache: snapshotOf(t, standard(objs...)), ServerUIDs: uids, Admins: e.admins, PublicNamespace: public})

	seen, unseen := fleet[2], fleet[3]
	for _, s := range []*computev1.Server{seen, unseen} {
		if err := e.c.Delete(context.Background(), s.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
	uids.OnDelete(seen) // the informer's event; the cache's copy is not gone yet either
	e.do(http.MethodGet, "/servers/"+string(seen.UID), "").expect(404)
	if live.calls != 0 || live.take() != 0 {
		t.Errorf("the 404 for a server seen deleted asked the lister %d times", live.calls)
	}
	e.do(http.MethodGet, "/servers/"+string(unseen.UID), "").expect(404)
	if live.calls == 0 {
		t.Error("the 404 for a server deleted unseen asked nothing past the cache")
	}
}
