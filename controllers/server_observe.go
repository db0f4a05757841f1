package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// DefaultPowerSyncInterval is Nova's sync_power_state_interval: how often a settled
// server's instance is read again when no event said it changed.
const DefaultPowerSyncInterval = 600 * time.Second

// instanceEvents is how many driver events may wait for the controller; past that an
// event is dropped and the periodic sync notices the change instead (as when libvirt's
// event is lost).
const instanceEvents = 1024

// syncPowerState reads the instance of a server with no task and reconciles its power
// state as Nova's _sync_instance_power_state does (lifecycle.SyncPowerState): power_state
// is always the driver's, a server found shut off while ACTIVE is stopped, one found
// running while STOPPED is stopped again. An instance that is gone puts the server in
// ERROR with Nova's InstanceNotFound fault. done says the reconcile ends here.
func (r *ServerReconciler) syncPowerState(ctx context.Context, srv *computev1.Server) (res reconcile.Result, done bool, err error) {
	r.forgetOldDrift(srv)
	inst, err := r.Driver.Get(ctx, string(srv.UID))
	switch {
	case errors.Is(err, compute.ErrNotFound):
		return reconcile.Result{}, r.vanished(ctx, srv), nil
	case err != nil:
		return reconcile.Result{}, true, fmt.Errorf("reading the instance: %w", err)
	}
	if inst.Op != nil && !inst.Op.Finished() {
		// An operation of an earlier controller is still finishing: as Nova ("the instance
		// has a pending task. Skip."), look again later.
		return reconcile.Result{RequeueAfter: max(inst.Op.NextIn, requeueMinimum)}, true, nil
	}
	vm := lifecycle.VMState(srv.Status.VMState)
	sync := lifecycle.SyncPowerState(vm, inst.Power)
	changed := srv.Status.PowerState != int32(sync.Power)
	if changed || sync.Stop {
		// The driver is ahead of the status when it ran a ServerAction's task whose status
		// write lost (server_takeup.go): no change behind Kova's back, but a task to show.
		if ahead, err := r.aheadOfStatus(ctx, srv, inst.Op); ahead || err != nil {
			return reconcile.Result{}, false, err
		}
	}
	srv.Status.PowerState = int32(sync.Power)
	if sync.Log != "" && (changed || sync.Stop) {
		log.FromContext(ctx).Info(sync.Log, "vmState", vm, "powerState", sync.Power.String())
	}
	if !sync.Stop {
		return reconcile.Result{}, false, nil
	}
	token := "sync-stop-" + strconv.FormatInt(r.now().UnixNano(), 36)
	r.beginTask(srv, lifecycle.ActionStop, token, "", nil)
	r.drifted(srv, computev1.ReasonPowerSynced, sync.Log)
	r.event(srv, corev1.EventTypeWarning, computev1.ReasonPowerSynced, string(lifecycle.ActionStop), sync.Log)
	return requeueSoon(), true, nil
}

// vanished records that the server's instance is gone: ERROR with Nova's fault, power
// NOSTATE. A server already in ERROR only takes the power state. It reports whether the
// reconcile ends here.
func (r *ServerReconciler) vanished(ctx context.Context, srv *computev1.Server) bool {
	srv.Status.PowerState = int32(lifecycle.PowerNoState)
	if lifecycle.VMState(srv.Status.VMState) == lifecycle.VMError {
		return false
	}
	msg := fmt.Sprintf("Instance %s could not be found.", srv.UID) // Nova's InstanceNotFound
	log.FromContext(ctx).Info("Instance vanished from its host", "vmState", srv.Status.VMState)
	setState(srv, lifecycle.Failed(lifecycle.PowerNoState))
	r.setFault(srv, 404, msg)
	r.drifted(srv, computev1.ReasonInstanceNotFound, msg)
	r.event(srv, corev1.EventTypeWarning, computev1.ReasonInstanceNotFound, "Sync", msg)
	return true
}

// drifted records, for the current spec, that Kova followed a change found behind its
// back.
func (r *ServerReconciler) drifted(srv *computev1.Server, reason, msg string) {
	setCondition(&srv.Status.Conditions, metav1.Condition{Type: computev1.ConditionChangedBehindKova,
		Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: srv.Generation}, r.now())
}

// forgetOldDrift drops the record of a change behind Kova's back once the spec changed
// since: the new spec is carried out in full.
func (r *ServerReconciler) forgetOldDrift(srv *computev1.Server) {
	if c := meta.FindStatusCondition(srv.Status.Conditions, computev1.ConditionChangedBehindKova); c != nil && c.ObservedGeneration != srv.Generation {
		meta.RemoveStatusCondition(&srv.Status.Conditions, computev1.ConditionChangedBehindKova)
	}
}

// heldByDrift says whether a spec-driven power action waits because the server's power
// changed behind Kova's back under this very spec: as in Nova, a server that shut itself
// down stays SHUTOFF until someone asks again (here: changes the spec).
func heldByDrift(srv *computev1.Server, a lifecycle.Action) bool {
	switch a {
	case lifecycle.ActionStop, lifecycle.ActionStart, lifecycle.ActionPause, lifecycle.ActionUnpause,
		lifecycle.ActionSuspend, lifecycle.ActionResume:
	default:
		return false
	}
	return currentDrift(srv) != nil
}

// currentDrift is the record of a change behind Kova's back under the current spec, if
// any.
func currentDrift(srv *computev1.Server) *metav1.Condition {
	c := meta.FindStatusCondition(srv.Status.Conditions, computev1.ConditionChangedBehindKova)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != srv.Generation {
		return nil
	}
	return c
}

// powerSyncSource reads every server's instance again once per PowerSyncInterval, as
// Nova's periodic _sync_power_states reads every instance of its host each
// sync_power_state_interval: one sweep over the servers the uid index names, queued at low
// priority behind whatever users asked for, rather than a timer per settled server held in
// the queue between syncs. A server the sweep finds busy is looked at again when its task
// ends; one whose instance changed is reconciled by syncPowerState.
func (r *ServerReconciler) powerSyncSource() source.Source {
	if r.PowerSyncInterval <= 0 || r.uids == nil {
		return nil
	}
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		// The first sweep, at the start, finds the servers the cache's first list queued.
		go wait.UntilWithContext(ctx, func(context.Context) { enqueueLow(q, r.uids.Keys()) }, r.PowerSyncInterval)
		return nil
	})
}

// enqueueLow queues a request for each key, at controller-runtime's low priority when the
// queue has priorities: a server a user acts on meanwhile is not kept waiting behind a
// sweep.
func enqueueLow(q workqueue.TypedRateLimitingInterface[reconcile.Request], keys []types.NamespacedName) {
	reqs := make([]reconcile.Request, len(keys))
	for i, k := range keys {
		reqs[i] = reconcile.Request{NamespacedName: k}
	}
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(handler.LowPriority)}, reqs...)
		return
	}
	for _, req := range reqs {
		q.Add(req)
	}
}

// refused says whether the API server refused a write for good: forbidden (403) or
// invalid (422). Retrying the same write cannot succeed, so it is not retried as a
// transient error.
func refused(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsInvalid(err)
}

// terminal turns an error the API server will refuse again into a TerminalError (logged,
// not retried), recording why on the server when its status can still be written.
func (r *ServerReconciler) terminal(ctx context.Context, srv *computev1.Server, err error) error {
	if err == nil || !refused(err) {
		return err
	}
	log.FromContext(ctx).Error(err, "The API server refused a write; not retrying until the server changes")
	srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonAPIRefused,
		Message: "The API server refused Kova's write (not retried): " + err.Error()}
	return reconcile.TerminalError(err)
}

// instanceSource enqueues the server of every instance the driver says changed by
// itself, when the driver tells (compute.Notifier), through a controller-runtime channel
// source.
func (r *ServerReconciler) instanceSource() source.Source {
	n, ok := r.Driver.(compute.Notifier)
	if !ok {
		return nil
	}
	ch := make(chan event.TypedGenericEvent[string], instanceEvents)
	n.Notify(func(id string) {
		select {
		case ch <- event.TypedGenericEvent[string]{Object: id}:
		default: // full: the periodic sync finds the change
		}
	})
	return source.Channel(ch, handler.TypedEnqueueRequestsFromMapFunc(r.serverOfInstance))
}

// serverOfInstance is the server whose instance has id (its UID), named by the uid index.
func (r *ServerReconciler) serverOfInstance(_ context.Context, id string) []reconcile.Request {
	if r.uids == nil {
		return nil
	}
	key, ok := r.uids.Lookup(types.UID(id))
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: key}}
}
