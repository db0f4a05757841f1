package novaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache/informertest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllertest"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/uidindex"
)

// readyIndex is a ServerIndex over what cache holds now, caught up as an informer-fed one
// is once it has synced.
func readyIndex(t *testing.T, cache client.Reader) *ServerIndex {
	t.Helper()
	var list computev1.ServerList
	if err := cache.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	x := NewServerIndex()
	for i := range list.Items {
		x.put(&list.Items[i])
	}
	x.synced = func() bool { return true }
	return x
}

// uidsOf is the uid index of a cache that never changes (snapshotOf), as nova-api's
// informer keeps it.
func uidsOf(t *testing.T, cache client.Reader) *uidindex.Index {
	t.Helper()
	var list computev1.ServerList
	if err := cache.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	x := uidindex.New()
	for i := range list.Items {
		x.OnAdd(&list.Items[i], true)
	}
	return x
}

func indexed(name string, created time.Time, labelled bool) *computev1.Server {
	s := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(created)}}
	if labelled {
		s.Labels = rules.CreatedLabels(created)
	}
	return s
}

func names(servers []*computev1.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Name
	}
	return out
}

// TestServerIndexOrder: the index keeps servers by creation time, then name, whatever order
// its events come in; an update replaces, a delete removes only the server it names; after
// reads either way from a marker, the marker left out.
func TestServerIndexOrder(t *testing.T) {
	x := NewServerIndex()
	a, b, c, d := indexed("a", base, true), indexed("b", base, true), indexed("c", base.Add(time.Second), false), indexed("d", base.Add(-time.Second), true)
	for _, s := range []*computev1.Server{c, a, d, b} {
		x.put(s)
	}
	if got := names(x.after(tenant, nil, false, 10)); !slices.Equal(got, []string{"d", "a", "b", "c"}) {
		t.Errorf("ascending %v", got)
	}
	if got := names(x.after(tenant, nil, true, 3)); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Errorf("descending, 3 %v", got)
	}
	if got := names(x.after(tenant, b, true, 10)); !slices.Equal(got, []string{"a", "d"}) {
		t.Errorf("descending after b %v", got)
	}
	if got := names(x.after(tenant, a, false, 10)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("ascending after a %v", got)
	}
	// A marker no longer indexed still has its place.
	if got := names(x.after(tenant, indexed("ab", base, true), false, 10)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("ascending after an unindexed ab %v", got)
	}
	if len(x.unlabelled[tenant]) != 1 || x.unlabelled[tenant][c.UID] != c {
		t.Errorf("unlabelled %v, want c", x.unlabelled[tenant])
	}

	newer := c.DeepCopy()
	newer.ResourceVersion, newer.Labels = "2", rules.CreatedLabels(c.CreationTimestamp.Time)
	x.put(newer)
	if got := x.get(c.Namespace, c.Name, c.CreationTimestamp.Time); got != newer || len(x.unlabelled) != 0 {
		t.Errorf("after an update the index holds %v, unlabelled %v", got, x.unlabelled)
	}
	// A delete of an earlier server of the same name and time leaves the current one.
	earlier := a.DeepCopy()
	earlier.UID = "uid-earlier-a"
	x.remove(earlier)
	x.remove(d)
	if got := names(x.after(tenant, nil, false, 10)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("after deletes %v", got)
	}
	sel, _ := rules.CreatedSelectionFor(base.Add(time.Second), base.Add(time.Second), base.Add(time.Hour))
	if got := names(x.selected(tenant, sel, &pageReads{})); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("selected %v: every server within the slack of the span", got)
	}
}

// bigFleet is n servers made 10 a second, the last ten minutes ago (the first page spans
// more than its servers: up to now), labelled as the admission webhook labels them.
func bigFleet(n int) []*computev1.Server {
	last := time.Now().Truncate(time.Second).Add(-10 * time.Minute)
	out := make([]*computev1.Server, n)
	for i := range out {
		made := last.Add(-time.Duration(n-1-i) * 100 * time.Millisecond).Truncate(time.Second)
		s := server(fmt.Sprintf("srv-%05d", i), fmt.Sprintf("00000000-0000-0000-0001-%012d", i), made)
		s.Labels = rules.CreatedLabels(made)
		out[i] = s
	}
	return out
}

// rawWalk reads /servers/detail page by page from path (a query with limit), and returns
// each page's "servers" as the bytes answered.
func rawWalk(t *testing.T, e *env, path string) []json.RawMessage {
	t.Helper()
	var pages []json.RawMessage
	next := path
	for next != "" {
		var body struct {
			Servers []map[string]any `json:"servers"`
			Links   []map[string]any `json:"servers_links"`
		}
		raw := e.do(http.MethodGet, next, "").expect(200).Body.Bytes()
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		var servers struct {
			Servers json.RawMessage `json:"servers"`
		}
		if err := json.Unmarshal(raw, &servers); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, servers.Servers)
		next = ""
		if len(body.Links) > 0 {
			next = fmt.Sprintf("%s&marker=%s", path, body.Servers[len(body.Servers)-1]["id"])
		}
		if len(pages) > 100 {
			t.Fatal("the walk does not end")
		}
	}
	return pages
}

// TestIndexedPagesAtScale: at a few thousand servers, a walk in creation order read from a
// caught-up index shows, page for page and byte for byte, what the list of every cached
// server shows (a filter that holds them all takes that way); each page lists past the
// cache about its own servers, not the fleet, the first one included though the newest
// server is ten minutes old; and what was written elsewhere since the index saw the fleet
// shows on the page whose span it is in.
func TestIndexedPagesAtScale(t *testing.T) {
	const n, limit = 3000, 1000
	fleet := bigFleet(n)
	objs := objects(fleet)
	e := newEnvWith(t, bumpGeneration, standard(objs...)...)
	live := &countingReader{r: e.c}
	cache := snapshotOf(t, standard(objs...))
	e.h = New(Config{Client: e.c, Live: live, Cache: cache, ServerUIDs: uidsOf(t, cache), Admins: e.admins, PublicNamespace: public, Servers: readyIndex(t, cache)})

	pages := rawWalk(t, e, fmt.Sprintf("/servers/detail?limit=%d", limit))
	listed := live.take()
	if len(pages) != n/limit+1 {
		t.Fatalf("%d pages, want %d and an empty one", len(pages), n/limit)
	}
	// Each page's span holds its servers and those made within the slack of its ends (10 a
	// second): far from the fleet a LIST per page would be.
	if max := (n/limit + 1) * (limit + 100); listed > max {
		t.Errorf("the walk listed %d servers past the cache, more than %d (a fleet per page is %d)", listed, max, (n/limit+1)*n)
	}
	filtered := rawWalk(t, e, fmt.Sprintf("/servers/detail?limit=%d&status=ACTIVE", limit))
	if len(filtered) != len(pages) {
		t.Fatalf("the filtered walk has %d pages, the indexed one %d", len(filtered), len(pages))
	}
	for i := range pages {
		if !bytes.Equal(pages[i], filtered[i]) {
			t.Fatalf("page %d differs from the list of every server:\n%.300s\n%.300s", i, pages[i], filtered[i])
		}
	}
	live.take() // the filtered walk's
	var first []map[string]any
	if err := json.Unmarshal(pages[0], &first); err != nil {
		t.Fatal(err)
	}
	if first[0]["id"] != string(fleet[n-1].UID) || first[limit-1]["id"] != string(fleet[n-limit].UID) {
		t.Errorf("the first page runs from %v to %v, want the newest %s to %s", first[0]["id"], first[limit-1]["id"], fleet[n-1].UID, fleet[n-limit].UID)
	}

	// Written through "another replica": neither the cache nor the index sees any of it.
	gone, stopped := fleet[2200], fleet[999]
	made := writeElsewhere(t, e, fleet[1500].CreationTimestamp.Time, gone, stopped)
	ids, status := walk(t, e, limit)
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	if len(ids) != n || seen[string(made.UID)] != 1 || seen[string(gone.UID)] != 0 || len(seen) != n {
		t.Errorf("after a create and a delete elsewhere the walk saw %d servers (%d distinct), the new one %d times, the deleted one %d",
			len(ids), len(seen), seen[string(made.UID)], seen[string(gone.UID)])
	}
	if st := status[string(stopped.UID)]; st != "SHUTOFF" {
		t.Errorf("a server stopped elsewhere, the last of a page, is listed %s", st)
	}
	if listed := live.take(); listed > (n/limit+1)*(limit+100) {
		t.Errorf("the walk after the writes listed %d servers past the cache", listed)
	}
}

// TestServerIndexWatch: the index follows the informer's events, a delete whose final state
// was missed included, and is used only once the informer has synced.
func TestServerIndexWatch(t *testing.T) {
	ctx := context.Background()
	inf := controllertest.NewFakeInformer() // not synced yet
	informers := &informertest.FakeInformers{Scheme: testScheme(t),
		InformersByGVK: map[schema.GroupVersionKind]toolscache.SharedIndexInformer{computev1.GroupVersion.WithKind("Server"): inf}}
	x := NewServerIndex()
	if err := x.Watch(ctx, informers); err != nil {
		t.Fatal(err)
	}
	a, b := indexed("a", base, true), indexed("b", base.Add(time.Second), true)
	inf.Add(a)
	inf.Add(b)
	if x.ready() {
		t.Error("the index is ready before the informer synced")
	}
	inf.Synced()
	if !x.ready() {
		t.Error("the index is not ready after the informer synced")
	}
	newer := b.DeepCopy()
	newer.ResourceVersion = "7"
	inf.Update(b, newer)
	if got := x.get(b.Namespace, b.Name, b.CreationTimestamp.Time); got != newer {
		t.Errorf("after an update the index holds %v", got)
	}
	inf.Delete(a)
	if got := names(x.after(tenant, nil, true, 10)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after a delete %v", got)
	}
	x.deleted(toolscache.DeletedFinalStateUnknown{Key: tenant + "/b", Obj: newer})
	if got := x.after(tenant, nil, true, 10); len(got) != 0 {
		t.Errorf("after a delete seen as a tombstone %v", names(got))
	}
}

// TestIndexedPageIndexChangedDuringCheck: the informer brings a server made through another
// replica into the index after the page was chosen from it and before its check compares
// the LIST with it; the page shows the server all the same.
func TestIndexedPageIndexChangedDuringCheck(t *testing.T) {
	fleet := bigFleet(10)
	objs := objects(fleet)
	e := newEnvWith(t, bumpGeneration, standard(objs...)...)
	cache := snapshotOf(t, standard(objs...))
	idx := readyIndex(t, cache)
	made := fleet[len(fleet)-1].DeepCopy()
	made.Name, made.UID, made.ResourceVersion = "made-elsewhere", "7d3c1e55-8f2a-4b6c-9e0d-1a2b3c4d5e6f", ""
	made.CreationTimestamp = metav1.NewTime(fleet[len(fleet)-1].CreationTimestamp.Add(time.Second))
	if err := e.c.Create(context.Background(), made); err != nil {
		t.Fatal(err)
	}
	// The page's check LISTs past the cache; the informer delivers the server just then.
	live := interceptor.NewClient(e.c, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if _, ok := list.(*metav1.PartialObjectMetadataList); ok {
			delivered := &computev1.Server{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(made), delivered); err != nil {
				return err
			}
			idx.put(delivered)
		}
		return nil
	}})
	e.h = New(Config{Client: e.c, Live: live, Cache: cache, ServerUIDs: uidsOf(t, cache), Admins: e.admins, PublicNamespace: public, Servers: idx})
	ids, _ := walk(t, e, 20)
	if len(ids) != len(fleet)+1 || ids[0] != string(made.UID) {
		t.Errorf("the page lists %d servers, first %v; want %d, first the one made elsewhere %s", len(ids), ids[0], len(fleet)+1, made.UID)
	}
}

// get is the indexed server of ns with the name, made at created, or nil: what the tests
// read the index by (a page's check looks servers up in idx.selected).
func (x *ServerIndex) get(ns, name string, created time.Time) *computev1.Server {
	x.mu.RLock()
	defer x.mu.RUnlock()
	list := x.tenant[ns]
	i, found := slices.BinarySearchFunc(list, name, func(s *computev1.Server, name string) int {
		return compareIndexedTo(s, created, name)
	})
	if found {
		return list[i]
	}
	return nil
}
