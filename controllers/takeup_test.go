package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// takeupWorld is one ACTIVE server on a simulated driver with no step latency (a stop ends
// as soon as it is asked) and a stop ServerAction pending, over a fake API server that logs
// every write and can make one fail.
type takeupWorld struct {
	r      *ServerReconciler
	c      client.Client
	writes []string // "server <status>/<task>", "action <phase>"
	// fail, when it returns an error, makes that write fail instead.
	fail func(kind string) error
}

func newTakeupWorld(t *testing.T) *takeupWorld {
	t.Helper()
	return newTakeupWorldWith(t, computev1.ServerActionSpec{ServerName: "web", Action: computev1.ActionStop})
}

// newTakeupWorldWith is takeupWorld with the action spec asks for pending (as "web-stop").
func newTakeupWorldWith(t *testing.T, spec computev1.ServerActionSpec) *takeupWorld {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created := metav1.NewTime(time.Now().Add(-time.Minute))
	srv := &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web", UID: "u-web", CreationTimestamp: created, Generation: 1,
			Finalizers: []string{computev1.Finalizer}},
		Spec: computev1.ServerSpec{FlavorRef: "m1.small", ImageRef: "cirros", PowerState: computev1.PowerActive},
	}
	srv.Status.LaunchedAt = &created
	srv.Status.VMState, srv.Status.PowerState, srv.Status.ObservedGeneration = string(lifecycle.VMActive), int32(lifecycle.PowerRunning), 1
	srv.Status.Flavor, srv.Status.Image = "m1.small", "cirros"
	applied := rules.AppliedOf(&srv.Spec) // the spec is carried out: only the stop is to do
	srv.Status.Applied = &applied
	setDerivedStatus(srv, time.Now(), true)
	sa := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web-stop", UID: "u-stop", CreationTimestamp: metav1.Now()},
		Spec:       spec,
	}
	w := &takeupWorld{}
	w.c = fake.NewClientBuilder().WithScheme(scheme).WithObjects(srv, sa).WithStatusSubresource(srv, sa).
		WithIndex(&computev1.ServerAction{}, IndexServerName, func(o client.Object) []string {
			return []string{o.(*computev1.ServerAction).Spec.ServerName}
		}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				var entry string
				switch o := obj.(type) {
				case *computev1.Server:
					entry = fmt.Sprintf("server %s/%s", o.Status.Status, orNone(o.Status.TaskState))
				case *computev1.ServerAction:
					entry = "action " + string(o.Status.Phase)
				}
				if w.fail != nil {
					if err := w.fail(entry); err != nil {
						return err
					}
				}
				w.writes = append(w.writes, entry)
				return c.SubResource(sub).Patch(ctx, obj, p, opts...)
			},
		}).Build()
	driver, err := compute.NewSimulated(compute.SimulatedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := driver.Start(ctx, "u-web", compute.OpRequest{Kind: compute.OpSpawn, Token: buildToken, Steps: 2,
		Flavor: compute.Resources{VCPUs: 1, RAMMiB: 512, DiskGiB: 1}}); err != nil || !inst.Op.Done {
		t.Fatalf("spawn: %v %+v", err, inst.Op)
	}
	w.r = &ServerReconciler{Client: w.c, APIReader: w.c, Scheme: scheme, Driver: driver}
	return w
}

func (w *takeupWorld) reconcile(t *testing.T) error {
	t.Helper()
	_, err := w.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Namespace: "t", Name: "web"}})
	return err
}

func (w *takeupWorld) server(t *testing.T) *computev1.Server {
	t.Helper()
	srv := &computev1.Server{}
	if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: "t", Name: "web"}, srv); err != nil {
		t.Fatal(err)
	}
	return srv
}

func (w *takeupWorld) action(t *testing.T) *computev1.ServerAction {
	t.Helper()
	sa := &computev1.ServerAction{}
	if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: "t", Name: "web-stop"}, sa); err != nil {
		t.Fatal(err)
	}
	return sa
}

// A stop the driver ends at once is carried out in the reconcile that takes it up: one
// status write shows SHUTOFF, the action's outcome follows it, and nothing else is written.
func TestTakenUpTaskEndedAtOnce(t *testing.T) {
	w := newTakeupWorld(t)
	for range 3 { // the first takes the stop up; the others are the events of its writes
		if err := w.reconcile(t); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"server SHUTOFF/none", "action Succeeded"}; !slices.Equal(w.writes, want) {
		t.Errorf("writes %v, want %v", w.writes, want)
	}
	if sa := w.action(t); sa.Status.ServerUID != "u-web" || sa.Status.StartTime == nil || sa.Status.CompletionTime == nil {
		t.Errorf("action status %+v", sa.Status)
	}
}

// When the status write of the reconcile that asked the driver loses, the task has ended on
// the driver before the server ever showed it. It is neither mistaken for a change behind
// Kova's back nor ended unseen: the next reconcile shows it running (the driver is not asked
// again), and the one after ends it.
func TestTakenUpTaskShownAfterConflict(t *testing.T) {
	w := newTakeupWorld(t)
	conflicts := 0
	w.fail = func(entry string) error {
		if entry == "server SHUTOFF/none" && conflicts == 0 {
			conflicts++
			return apierrors.NewConflict(schema.GroupResource{Group: computev1.GroupVersion.Group, Resource: "servers"}, "web",
				errors.New("the object has been modified"))
		}
		return nil
	}
	for range 4 {
		if err := w.reconcile(t); err != nil {
			t.Fatal(err)
		}
	}
	if conflicts != 1 {
		t.Fatalf("%d conflicts", conflicts)
	}
	if want := []string{"server ACTIVE/powering-off", "action Running", "server SHUTOFF/none", "action Succeeded"}; !slices.Equal(w.writes, want) {
		t.Errorf("writes %v, want %v", w.writes, want)
	}
	srv := w.server(t)
	if c := meta.FindStatusCondition(srv.Status.Conditions, computev1.ConditionChangedBehindKova); c != nil {
		t.Errorf("taken for a change behind Kova's back: %+v", c)
	}
	if srv.Status.Status != lifecycle.StatusShutoff || srv.Status.Operation != nil {
		t.Errorf("server %s, operation %+v", srv.Status.Status, srv.Status.Operation)
	}
}

// loseOnce fails the first write named entry, as a connection reset would, and no other.
func loseOnce(entry string) func(string) error {
	lost := false
	return func(e string) error {
		if e == entry && !lost {
			lost = true
			return errors.New("connection reset")
		}
		return nil
	}
}

// When the write of an action's outcome, which follows the status write, is lost, the
// action is found carried out (by the driver's record of its task), not refused.
func TestTakenUpTaskOutcomeLost(t *testing.T) {
	w := newTakeupWorld(t)
	w.fail = loseOnce("action Succeeded")
	if err := w.reconcile(t); err == nil {
		t.Fatal("the lost write was not reported")
	}
	if err := w.reconcile(t); err != nil {
		t.Fatal(err)
	}
	if sa := w.action(t); sa.Status.Phase != computev1.ActionSucceeded {
		t.Errorf("action %s: %s", sa.Status.Phase, sa.Status.Message)
	}
	if want := []string{"server SHUTOFF/none", "action Succeeded"}; !slices.Equal(w.writes, want) {
		t.Errorf("writes %v, want %v", w.writes, want)
	}
}

// When the write of a reboot's outcome is lost (or the manager dies before it), the server
// shows the reboot ended while the action still reads as taken up. A reboot, unlike a
// stop, is allowed again from where it ended, and its token finds it begun on the driver:
// it must not be taken up and shown rebooting again. The server's status records it
// completed, and the next reconcile writes the recorded outcome.
func TestFinishedActionNotTakenUpAgain(t *testing.T) {
	w := newTakeupWorldWith(t, computev1.ServerActionSpec{ServerName: "web", Action: computev1.ActionReboot,
		Reboot: &computev1.RebootParams{Type: "SOFT"}})
	w.fail = loseOnce("action Succeeded")
	if err := w.reconcile(t); err == nil {
		t.Fatal("the lost write was not reported")
	}
	for range 3 {
		if err := w.reconcile(t); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"server ACTIVE/none", "action Succeeded"}; !slices.Equal(w.writes, want) {
		t.Errorf("writes %v, want %v", w.writes, want)
	}
	if sa := w.action(t); sa.Status.Phase != computev1.ActionSucceeded || sa.Status.CompletionTime == nil {
		t.Errorf("action %s: %s", sa.Status.Phase, sa.Status.Message)
	}
	srv := w.server(t)
	if c := rules.Completed(srv, w.action(t)); c == nil || c.Phase != computev1.ActionSucceeded {
		t.Errorf("completed %+v", srv.Status.CompletedActions)
	}
}
