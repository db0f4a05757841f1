package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// selectableFields are the ServerAction CRD's selectable fields (api/v1alpha1), which the
// fake client, playing the API server, answers through indexes.
func selectableFields() []fieldIndex {
	return []fieldIndex{
		{&computev1.ServerAction{}, fieldServerName, func(o client.Object) []string {
			return []string{o.(*computev1.ServerAction).Spec.ServerName}
		}},
	}
}

// newLaggingEnv is an API whose cache never catches up: it serves the objects as they were
// when the env was made, as a replica's informer does before a write reaches it (or a
// write made through another replica). The env's client is the API server.
func newLaggingEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	e := newEnvWith(t, bumpGeneration, objs...)
	cached := snapshotOf(t, objs)
	e.h = New(Config{Client: e.c, Cache: cached, ServerUIDs: listedUIDs{cached}, Admins: e.admins, PublicNamespace: public})
	return e
}

// snapshotOf is a cache that has objs as they are now and never sees a write.
func snapshotOf(t *testing.T, objs []client.Object) client.Reader {
	t.Helper()
	snapshot := make([]client.Object, len(objs))
	for i, o := range objs {
		snapshot[i] = o.DeepCopyObject().(client.Object)
	}
	b := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(snapshot...)
	for _, fi := range fieldIndexes() {
		b = b.WithIndex(fi.obj, fi.field, fi.fn)
	}
	return staleReader{b.Build()}
}

// replica is another nova-api over the same API server as e, with a lagging cache of its
// own.
func (e *env) replica(objs ...client.Object) *env {
	e.t.Helper()
	other := *e
	cached := snapshotOf(e.t, objs)
	other.h = New(Config{Client: e.c, Cache: cached, ServerUIDs: listedUIDs{cached}, Admins: e.admins, PublicNamespace: public})
	return &other
}

// staleReader is a cache that can only read: nothing written reaches it.
type staleReader struct{ r client.Reader }

func (s staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return s.r.Get(ctx, key, obj, opts...)
}

func (s staleReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return s.r.List(ctx, list, opts...)
}

// bumpGeneration moves a Server's generation on when a patch changes its spec, as the API
// server does (the fake client does not).
func bumpGeneration(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
	srv, ok := obj.(*computev1.Server)
	if !ok {
		return c.Patch(ctx, obj, p, opts...)
	}
	before := &computev1.Server{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), before); err != nil {
		return err
	}
	if err := c.Patch(ctx, obj, p, opts...); err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(before.Spec, srv.Spec) {
		return nil
	}
	srv.Generation = before.Generation + 1
	return c.Update(ctx, srv)
}

func task(s map[string]any) any { return s["OS-EXT-STS:task_state"] }

// TestReadYourWrites: after a 2xx write, a read shows it and the task the write started,
// though the cache still has the world as it was before.
func TestReadYourWrites(t *testing.T) {
	t.Run("metadata item", func(t *testing.T) {
		e := newLaggingEnv(t, standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPut, "/servers/"+srvUID+"/metadata/role", `{"meta": {"role": "web"}}`).expect(200)
		got := e.do(http.MethodGet, "/servers/"+srvUID+"/metadata/role", "").expect(200).object()
		if got["meta"].(map[string]any)["role"] != "web" {
			t.Errorf("metadata item after PUT: %v", got)
		}
		if m := showServer(t, e, srvUID)["metadata"].(map[string]any); m["role"] != "web" {
			t.Errorf("server metadata after PUT: %v", m)
		}
		if m := detailOf(t, e, srvUID)["metadata"].(map[string]any); m["role"] != "web" {
			t.Errorf("listed metadata after PUT: %v", m)
		}
	})

	t.Run("unlock", func(t *testing.T) {
		e := newLaggingEnv(t, standard(locked(server("srv-a", srvUID, base)))...).as("demo", "2.9")
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"unlock": null}`).expect(202)
		if l := showServer(t, e, srvUID)["locked"]; l != false {
			t.Errorf("locked %v after unlock", l)
		}
		if l := detailOf(t, e, srvUID)["locked"]; l != false {
			t.Errorf("listed locked %v after unlock", l)
		}
	})

	for _, tt := range []struct {
		name, body   string
		vm           lifecycle.VMState
		status, task string
	}{
		{"rescue", `{"rescue": null}`, lifecycle.VMActive, "ACTIVE", "rescuing"},
		{"resize", `{"resize": {"flavorRef": "2"}}`, lifecycle.VMActive, "RESIZE", "resize_prep"},
		{"shelve", `{"shelve": null}`, lifecycle.VMActive, "ACTIVE", "shelving"},
		{"revertResize", `{"revertResize": null}`, lifecycle.VMResized, "REVERT_RESIZE", "resize_reverting"},
		{"reboot", `{"reboot": {"type": "HARD"}}`, lifecycle.VMActive, "HARD_REBOOT", "rebooting_hard"},
	} {
		t.Run(tt.name+" shows its task", func(t *testing.T) {
			e := newLaggingEnv(t, standard(inState(server("srv-a", srvUID, base), tt.vm, "", lifecycle.PowerRunning))...)
			e.do(http.MethodPost, "/servers/"+srvUID+"/action", tt.body).expect2xx()
			for way, s := range map[string]map[string]any{"show": showServer(t, e, srvUID), "list": detailOf(t, e, srvUID)} {
				if s["status"] != tt.status || task(s) != tt.task {
					t.Errorf("%s: status %v task %v, want %s %s", way, s["status"], task(s), tt.status, tt.task)
				}
			}
		})
	}

	t.Run("an action accepted by another replica", func(t *testing.T) {
		objs := standard(server("srv-a", srvUID, base))
		e := newLaggingEnv(t, objs...)
		e.replica(objs...).do(http.MethodPost, "/servers/"+srvUID+"/action", `{"reboot": {"type": "SOFT"}}`).expect(202)
		for way, s := range map[string]map[string]any{"show": showServer(t, e, srvUID), "list": detailOf(t, e, srvUID)} {
			if s["status"] != "REBOOT" || task(s) != "rebooting" {
				t.Errorf("%s: status %v task %v", way, s["status"], task(s))
			}
		}
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).
			expectFault(409, "conflictingRequest", "Cannot 'stop' instance "+srvUID+" while it is in task_state rebooting")
		if n := len(e.do(http.MethodGet, "/servers/"+srvUID+"/os-instance-actions", "").expect(200).object()["instanceActions"].([]any)); n != 2 {
			t.Errorf("%d instance actions, want the reboot and the create", n)
		}
	})

	t.Run("a server made and one deleted elsewhere", func(t *testing.T) {
		gone := server("srv-gone", "0d5b9f0e-8a52-4d0e-9d3c-2f7e2d1f6a01", base)
		e := newLaggingEnv(t, standard(server("srv-a", srvUID, base), gone)...)
		made := server("srv-new", "5a3e43f6-1c2d-4a38-8d5e-1b3f6c7d8e90", base.Add(time.Minute))
		made.ResourceVersion = ""
		if err := e.c.Create(context.Background(), made); err != nil {
			t.Fatal(err)
		}
		if err := e.c.Delete(context.Background(), gone); err != nil {
			t.Fatal(err)
		}
		showServer(t, e, string(made.UID))
		e.do(http.MethodGet, "/servers/"+string(gone.UID), "").expect(404)
		ids := map[any]bool{}
		for _, s := range e.do(http.MethodGet, "/servers/detail", "").expect(200).object()["servers"].([]any) {
			ids[s.(map[string]any)["id"]] = true
		}
		if !ids[string(made.UID)] || ids[string(gone.UID)] || !ids[srvUID] {
			t.Errorf("listed %v", ids)
		}
	})

	t.Run("keypairs", func(t *testing.T) {
		e := newLaggingEnv(t, standard()...)
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "fresh", "public_key": "`+testPublicKey+`"}}`).expect(200)
		e.do(http.MethodGet, "/os-keypairs/fresh", "").expect(200)
		if n := len(e.do(http.MethodGet, "/os-keypairs", "").expect(200).object()["keypairs"].([]any)); n != 2 {
			t.Errorf("%d keypairs listed after a create, want 2", n)
		}
		e.do(http.MethodDelete, "/os-keypairs/kp-demo", "").expect(202)
		e.do(http.MethodGet, "/os-keypairs/kp-demo", "").expect(404)
	})

	t.Run("createImage and image metadata", func(t *testing.T) {
		e := newLaggingEnv(t, standard(server("srv-a", srvUID, base))...)
		r := e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"createImage": {"name": "snap"}}`).expect(202)
		loc := r.Header().Get("Location")
		id := loc[len(loc)-36:]
		img := e.do(http.MethodGet, "/images/"+id, "").expect(200).object()["image"].(map[string]any)
		if img["name"] != "snap" {
			t.Errorf("image %v", img)
		}
		if s := showServer(t, e, srvUID); task(s) != "image_snapshot_pending" {
			t.Errorf("task %v after createImage", task(s))
		}
		e.do(http.MethodPut, "/images/"+id+"/metadata/k", `{"meta": {"k": "v"}}`).expect(200)
		got := e.do(http.MethodGet, "/images/"+id+"/metadata", "").expect(200).object()["metadata"].(map[string]any)
		if got["k"] != "v" {
			t.Errorf("image metadata %v", got)
		}
	})
}

// detailOf is one server as GET /servers/detail shows it.
func detailOf(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	for _, s := range e.do(http.MethodGet, "/servers/detail", "").expect(200).object()["servers"].([]any) {
		if m := s.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("server %s not listed", id)
	return nil
}

func (r *response) expect2xx() *response {
	r.t.Helper()
	if r.Code < 200 || r.Code > 299 {
		r.t.Fatalf("status %d: %s", r.Code, r.Body.String())
	}
	return r
}

// TestShowNeverOlderThanActions: the controller takes an action up and finishes it between
// the read of the server and the read of its action; the show is of the server after it,
// not of the server before it with no task.
func TestShowNeverOlderThanActions(t *testing.T) {
	for _, way := range []string{"show", "list"} {
		srv := inState(server("srv-a", srvUID, base), lifecycle.VMResized, "", lifecycle.PowerRunning)
		srv.Annotations[annPendingAction] = "srv-a-revert"
		objs := standard(srv, &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "srv-a-revert",
			CreationTimestamp: metav1.NewTime(base.Add(time.Hour))},
			Spec: computev1.ServerActionSpec{ServerName: "srv-a", Action: computev1.ActionRevertResize}})
		e := newLaggingEnv(t, objs...)
		finished := false
		racing := interceptor.NewClient(e.c, interceptor.Funcs{Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*computev1.ServerAction); ok && !finished {
				finished = true
				srv := &computev1.Server{}
				if err := cl.Get(ctx, client.ObjectKey{Namespace: tenant, Name: "srv-a"}, srv); err != nil {
					return err
				}
				inState(srv, lifecycle.VMActive, "", lifecycle.PowerRunning)
				if err := cl.Status().Update(ctx, srv); err != nil {
					return err
				}
				sa := &computev1.ServerAction{}
				if err := cl.Get(ctx, key, sa); err != nil {
					return err
				}
				sa.Status.Phase = computev1.ActionSucceeded
				// Written after the server's status, as an etcd revision would be.
				for range 2 {
					if err := cl.Status().Update(ctx, sa); err != nil {
						return err
					}
				}
			}
			return cl.Get(ctx, key, obj, opts...)
		}})
		cached := snapshotOf(t, objs)
		e.h = New(Config{Client: racing, Cache: cached, ServerUIDs: listedUIDs{cached}, Admins: e.admins, PublicNamespace: public})
		var s map[string]any
		if way == "show" {
			s = showServer(t, e, srvUID)
		} else {
			s = detailOf(t, e, srvUID)
		}
		if !finished {
			t.Fatalf("%s: the action was not read past the cache", way)
		}
		if s["status"] != "ACTIVE" || task(s) != nil {
			t.Errorf("%s: status %v task %v, want the server after the revert: ACTIVE with no task", way, s["status"], task(s))
		}
	}
}

func TestFinishedSince(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "100"}}
	action := func(rv string, phase computev1.ActionPhase) computev1.ServerAction {
		return computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}, Status: computev1.ServerActionStatus{Phase: phase}}
	}
	for _, tt := range []struct {
		name    string
		actions []computev1.ServerAction
		want    bool
	}{
		{"none", nil, false},
		{"finished before", []computev1.ServerAction{action("99", computev1.ActionSucceeded)}, false},
		{"finished after", []computev1.ServerAction{action("101", computev1.ActionSucceeded)}, true},
		{"failed after", []computev1.ServerAction{action("101", computev1.ActionFailed)}, true},
		{"pending after: the projection shows it", []computev1.ServerAction{action("101", computev1.ActionPending)}, false},
		{"not a number", []computev1.ServerAction{action("x", computev1.ActionSucceeded)}, false},
	} {
		if got := finishedSince(tt.actions, srv); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
	// The status write that recorded the action completed shows its end: srv is not older.
	done := action("101", computev1.ActionSucceeded)
	done.UID = "a-1"
	srv.Status.CompletedActions = []computev1.CompletedAction{{UID: "a-1", Phase: computev1.ActionSucceeded}}
	if finishedSince([]computev1.ServerAction{done}, srv) {
		t.Error("finished after, and recorded on the server's status: true")
	}
}

// TestListRereadsManyStaleServers lists, in an order that checks every server, more servers
// than a replica reads one by one (maxStaleGets) that its cache has not seen: they are read
// with one LIST, and the one the cache has is listed once.
func TestListRereadsManyStaleServers(t *testing.T) {
	e := newLaggingEnv(t, standard(server("srv-a", srvUID, base))...)
	for i := range maxStaleGets + 8 {
		srv := server(fmt.Sprintf("late-%02d", i), fmt.Sprintf("00000000-0000-0000-0000-%012d", i), base.Add(time.Duration(i+1)*time.Minute))
		if err := e.c.Create(context.Background(), srv); err != nil {
			t.Fatal(err)
		}
	}
	listed := map[string]int{}
	for _, s := range e.do(http.MethodGet, "/servers/detail?sort_key=display_name&sort_dir=asc", "").expect(200).object()["servers"].([]any) {
		listed[s.(map[string]any)["id"].(string)]++
	}
	if len(listed) != maxStaleGets+9 || listed[srvUID] != 1 {
		t.Errorf("listed %d servers (%d times %s), want %d, each once", len(listed), listed[srvUID], srvUID, maxStaleGets+9)
	}
	for id, n := range listed {
		if n != 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
}

// listedUIDs names a server of a test's cache by uid by listing them all: what
// internal/uidindex, kept from the informer, answers in nova-api.
type listedUIDs struct{ cache client.Reader }

func (l listedUIDs) Lookup(uid types.UID) (types.NamespacedName, bool) {
	var list computev1.ServerList
	if err := l.cache.List(context.Background(), &list); err != nil {
		return types.NamespacedName{}, false
	}
	for i := range list.Items {
		if list.Items[i].UID == uid {
			return client.ObjectKeyFromObject(&list.Items[i]), true
		}
	}
	return types.NamespacedName{}, false
}

func (listedUIDs) Deleted(types.UID) (types.NamespacedName, bool) {
	return types.NamespacedName{}, false
}

// TestNoteNamingAnotherServersAction: a pending-action note edited (with kubectl) to name
// another server's running action says nothing of this server: neither its show nor its
// line in a list takes that action's task (a state is projected from the server's own
// actions only, rules.ActionOf).
func TestNoteNamingAnotherServersAction(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Annotations[annPendingAction] = "srv-b-reboot"
	other := server("srv-b", "9b1d7c55-9d0e-4c2c-9a57-0c1f0d3f2b11", base)
	objs := standard(srv, other, &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "srv-b-reboot",
		CreationTimestamp: metav1.NewTime(base.Add(time.Hour))},
		Spec:   computev1.ServerActionSpec{ServerName: "srv-b", Action: computev1.ActionReboot},
		Status: computev1.ServerActionStatus{Phase: computev1.ActionRunning}})
	// A cache that has not got the action, so the note is read past it.
	e := newLaggingEnv(t, standard(srv, other)...)
	for _, o := range objs[len(objs)-1:] {
		if err := e.c.Create(context.Background(), o.DeepCopyObject().(client.Object)); err != nil {
			t.Fatal(err)
		}
	}
	for way, s := range map[string]map[string]any{"show": showServer(t, e, srvUID), "list": detailOf(t, e, srvUID)} {
		if s["status"] != "ACTIVE" || task(s) != nil {
			t.Errorf("%s: status %v task %v, want ACTIVE with no task", way, s["status"], task(s))
		}
	}
}
