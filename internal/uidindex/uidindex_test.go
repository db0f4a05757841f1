package uidindex

import (
	"context"
	"fmt"
	goruntime "runtime"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache/informertest"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func server(ns, name, uid string) *computev1.Server {
	return &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
}

func TestFollowsTheInformersEvents(t *testing.T) {
	x := New()
	a, b := server("t1", "a", "u-a"), server("t2", "b", "u-b")
	x.OnAdd(a, true)
	x.OnAdd(b, false)
	if k, ok := x.Lookup("u-a"); !ok || k != (types.NamespacedName{Namespace: "t1", Name: "a"}) {
		t.Errorf("u-a: %v %v", k, ok)
	}
	// An update keeps the entry; a status write changes neither uid nor name.
	b2 := b.DeepCopy()
	b2.ResourceVersion = "2"
	x.OnUpdate(b, b2)
	if k, ok := x.Lookup("u-b"); !ok || k.Name != "b" || k.Namespace != "t2" {
		t.Errorf("u-b after update: %v %v", k, ok)
	}
	x.OnDelete(a)
	if _, ok := x.Lookup("u-a"); ok {
		t.Error("u-a still named after its deletion")
	}
	// A deletion the informer only learns of on a relist comes as a tombstone.
	x.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "t2/b", Obj: b2})
	if _, ok := x.Lookup("u-b"); ok {
		t.Error("u-b still named after its tombstone")
	}
	if x.Len() != 0 {
		t.Errorf("%d entries left", x.Len())
	}
}

func TestIgnoresWhatIsNotAnObject(t *testing.T) {
	x := New()
	x.OnAdd("not an object", false)
	x.OnAdd(server("t1", "no-uid", ""), false)
	x.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "t1/gone"})
	if x.Len() != 0 {
		t.Errorf("%d entries from non-objects", x.Len())
	}
}

// A deletion names the object deleted: an entry is not dropped for another object's event.
func TestDeleteOnlyItsOwnEntry(t *testing.T) {
	x := New()
	x.OnAdd(server("t1", "a", "u-1"), false)
	x.OnDelete(server("t1", "other", "u-1"))
	if _, ok := x.Lookup("u-1"); !ok {
		t.Error("entry dropped for another object's deletion")
	}
}

// TestRemembersTheLastDeletions: an index told to remember deletions names the last n
// objects deleted (tombstones too), the oldest forgotten first; one not told to names none.
func TestRemembersTheLastDeletions(t *testing.T) {
	plain := New()
	plain.OnAdd(server("t1", "a", "u-a"), false)
	plain.OnDelete(server("t1", "a", "u-a"))
	if k, ok := plain.Deleted("u-a"); ok {
		t.Errorf("an index not told to remember deletions names %v", k)
	}

	x := New()
	x.RememberDeleted(2)
	a, b, c := server("t1", "a", "u-a"), server("t1", "b", "u-b"), server("t2", "c", "u-c")
	for _, s := range []*computev1.Server{a, b, c} {
		x.OnAdd(s, false)
	}
	if _, ok := x.Deleted("u-a"); ok {
		t.Error("u-a named deleted while it is not")
	}
	x.OnDelete(a)
	x.OnDelete(a) // a deletion seen twice is one
	x.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "t1/b", Obj: b})
	for _, s := range []*computev1.Server{a, b} {
		if k, ok := x.Deleted(s.UID); !ok || k != (types.NamespacedName{Namespace: s.Namespace, Name: s.Name}) {
			t.Errorf("%s: deleted %v %v, want %s/%s", s.UID, k, ok, s.Namespace, s.Name)
		}
	}
	x.OnDelete(c)
	if _, ok := x.Deleted("u-a"); ok {
		t.Error("u-a still named after two later deletions, with room for two")
	}
	for _, uid := range []types.UID{"u-b", "u-c"} {
		if _, ok := x.Deleted(uid); !ok {
			t.Errorf("%s forgotten", uid)
		}
	}
	if _, ok := x.Lookup("u-c"); ok || x.Len() != 0 {
		t.Errorf("deleted objects still indexed: %d entries", x.Len())
	}
}

// What the index is for: it holds a server for far less than controller-runtime's field
// index on metadata.uid, which the manager and nova-api used before.
func TestCostsLessThanAFieldIndex(t *testing.T) {
	const n = 5000
	objs := make([]*computev1.Server, n)
	for i := range objs {
		objs[i] = server("tenant-a", fmt.Sprintf("server-%d", i), fmt.Sprintf("6f1d2c3e-0000-4000-8000-%012d", i))
	}
	live := func() uint64 {
		goruntime.GC()
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// controller-runtime's field index: "<namespace>/<value>" and "__all_namespaces/<value>".
	fieldIndex := toolscache.Indexers{"field:.metadata.uid": func(o any) ([]string, error) {
		s := o.(*computev1.Server)
		return []string{s.Namespace + "/" + string(s.UID), "__all_namespaces/" + string(s.UID)}, nil
	}}
	before := live()
	store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, fieldIndex)
	for _, o := range objs {
		if err := store.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	withField := live() - before
	goruntime.KeepAlive(store)
	store = nil

	before = live()
	plain := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})
	x := New()
	for _, o := range objs {
		if err := plain.Add(o); err != nil {
			t.Fatal(err)
		}
		x.OnAdd(o, false)
	}
	withIndex := live() - before
	goruntime.KeepAlive(plain)
	goruntime.KeepAlive(x)
	t.Logf("store and index per server: field index %d bytes, uidindex %d bytes", withField/n, withIndex/n)
	if withIndex*2 > withField {
		t.Errorf("uidindex costs %d bytes per server, the field index %d: expected under half", withIndex/n, withField/n)
	}
}

func TestWatchIsKeptByTheInformer(t *testing.T) {
	ctx := context.Background()
	informers := &informertest.FakeInformers{Scheme: scheme(t)}
	x := New()
	if err := x.Watch(ctx, informers, &computev1.Server{}); err != nil {
		t.Fatal(err)
	}
	inf, err := informers.FakeInformerFor(ctx, &computev1.Server{})
	if err != nil {
		t.Fatal(err)
	}
	a := server("t1", "a", "u-a")
	inf.Add(a)
	if k, ok := x.Lookup("u-a"); !ok || k.Name != "a" {
		t.Fatalf("after the informer's add: %v %v", k, ok)
	}
	inf.Delete(a)
	if _, ok := x.Lookup("u-a"); ok {
		t.Fatal("still named after the informer's delete")
	}
}

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := computev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
