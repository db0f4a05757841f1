// Package controllers holds Kova's reconcilers. The server controller is the only writer
// of Server status: it walks each server through Nova's state machine (internal/lifecycle)
// on a compute driver (internal/compute), from Server.spec (desired state) and from
// ServerAction records (one-shot actions).
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/uidindex"
)

// Requeue intervals. Tasks on the driver requeue after the driver's own estimate.
const (
	// requeueDependency waits for a flavor, image or network that is not there yet.
	requeueDependency = 5 * time.Second
	// requeueMinimum is the shortest wait for a running backend task.
	requeueMinimum = 10 * time.Millisecond
)

// IndexServerName indexes ServerActions by the server they act on.
const IndexServerName = ".spec.serverName"

// IndexServerImage indexes the Servers that wait to build by the image they boot from, so
// an image that turns active (or fails) wakes them. A server that has begun to build leaves
// the index: it costs nothing per settled server, and an image's status write lists only
// the few that wait, not every server booted from it.
const IndexServerImage = ".spec.imageRef.waiting"

// ServerReconciler reconciles Server objects.
type ServerReconciler struct {
	client.Client
	// APIReader reads past the cache where a stale read could duplicate something.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Driver    compute.Driver
	Recorder  events.EventRecorder
	// PublicNamespace holds the public images and shared networks every tenant sees.
	PublicNamespace string
	// OffloadShelved offloads a shelved server at once, as Nova does with its default
	// shelved_offload_time of 0.
	OffloadShelved bool
	// Addresses hands out the networks' addresses (internal/ipam).
	Addresses *ipam.Allocator
	// PowerSyncInterval is how often a settled server's instance is read again without
	// an event (Nova's sync_power_state_interval); 0 reads it only on events.
	PowerSyncInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// uids names a cached server by its UID, the id of its instance on the driver; set by
	// SetupWithManager (nil: a driver's event finds no server, the periodic sync does).
	uids *uidindex.Index
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=servers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=servers/status;servers/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=serveractions,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=serveractions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=flavors;keypairs;networks,verbs=get;list;watch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=images,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=images/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=imagemembers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;delete
// +kubebuilder:rbac:groups=compute.kova.dev,resources=servers,verbs=override-lock
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

func (r *ServerReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile moves one server one step closer to its spec: get, ensure the finalizer, one
// status patch at the end.
func (r *ServerReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	srv := &computev1.Server{}
	if err := r.Get(ctx, req.NamespacedName, srv); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !srv.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, srv)
	}
	if !controllerutil.ContainsFinalizer(srv, computev1.Finalizer) {
		// The finalizer goes on before anything is allocated, so a delete can never miss
		// something this server holds.
		patch := client.MergeFrom(srv.DeepCopy())
		controllerutil.AddFinalizer(srv, computev1.Finalizer)
		return reconcile.Result{}, r.Patch(ctx, srv, patch)
	}

	before := srv.DeepCopy()
	var after []func(context.Context) error
	res, err := r.reconcileNormal(withAfterStatus(ctx, &after), srv)
	err = r.terminal(ctx, srv, err)
	if perr := r.patchStatus(ctx, before, srv, err == nil); perr != nil {
		if apierrors.IsConflict(perr) && err == nil {
			// The cache was behind: what this reconcile saw was not the latest server,
			// so its status is not written; the next reconcile starts from the latest.
			return reconcile.Result{RequeueAfter: requeueMinimum}, nil
		}
		return res, errors.Join(err, r.terminal(ctx, srv, perr))
	}
	for _, f := range after {
		err = errors.Join(err, f(ctx))
	}
	return res, err
}

type afterStatusKey struct{}

// withAfterStatus gives a reconcile a list of writes to make once its status is written,
// and only then: a lock or unlock is done once the server's status has it (an action seen
// ended says its server shows it; the REST shim reads them in that order), and the record
// of a spec-driven task is written once the task is on the server.
func withAfterStatus(ctx context.Context, list *[]func(context.Context) error) context.Context {
	return context.WithValue(ctx, afterStatusKey{}, list)
}

// afterStatus adds f to the writes made after this reconcile's status write.
func afterStatus(ctx context.Context, f func(context.Context) error) {
	if list, ok := ctx.Value(afterStatusKey{}).(*[]func(context.Context) error); ok {
		*list = append(*list, f)
	}
}

// patchStatus derives the display fields and conditions, then writes status once if it
// changed. observedGeneration moves on only when the reconcile succeeded (ok).
func (r *ServerReconciler) patchStatus(ctx context.Context, before, srv *computev1.Server, ok bool) error {
	setDerivedStatus(srv, r.now(), ok)
	if equality.Semantic.DeepEqual(before.Status, srv.Status) {
		return nil
	}
	if !equality.Semantic.DeepEqual(before.Status.VMState, srv.Status.VMState) ||
		before.Status.TaskState != srv.Status.TaskState || before.Status.PowerState != srv.Status.PowerState {
		t := metav1.NewTime(r.now())
		srv.Status.Updated = &t
	}
	// Our own spec writes in this reconcile moved the version on; they were locked too.
	before.ResourceVersion = srv.ResourceVersion
	// The optimistic lock makes a reconcile that read a stale server fail instead of
	// writing over newer status (finishing a task twice, say).
	err := r.Status().Patch(ctx, srv, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (r *ServerReconciler) reconcileNormal(ctx context.Context, srv *computev1.Server) (reconcile.Result, error) {
	if a, ok := applySpecLock(srv); ok {
		name := specRecordName(srv, a)
		afterStatus(ctx, func(ctx context.Context) error {
			return r.recordSpecAction(ctx, srv, name, a, nil, computev1.ActionSucceeded, "")
		})
	}

	switch {
	case waitingToBuild(srv):
		return r.beginBuild(ctx, srv)
	case srv.Status.Operation != nil:
		return r.advance(ctx, srv)
	case srv.Status.VMState == string(lifecycle.VMDeleted):
		return reconcile.Result{}, nil
	}
	if res, done, err := r.syncPowerState(ctx, srv); done || err != nil {
		return res, err
	}

	taken, wait, err := r.startNextAction(ctx, srv)
	if err != nil {
		return reconcile.Result{}, err
	}
	if taken != nil {
		return r.runTakenUp(ctx, srv, taken)
	}
	if wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	if started, err := r.startDeviceTask(ctx, srv); err != nil || started {
		// As for a spec task: the driver is asked once the server shows the operation.
		return reconcile.Result{}, err
	}
	return r.startSpecTask(ctx, srv)
}

// applySpecLock carries out a change of spec.locked (or of the reason of a lock) from what
// was last carried out: lock and unlock are instant in Nova, with no task. It says which
// of the two it was, to be recorded.
func applySpecLock(srv *computev1.Server) (lifecycle.Action, bool) {
	a, ok := rules.LockChange(&srv.Spec, rules.Applied(&srv.Status))
	if !ok {
		return "", false
	}
	ap := rules.AfterAction(rules.Applied(&srv.Status), &srv.Spec, a)
	srv.Status.Locked, srv.Status.LockedReason = ap.Locked, ap.LockedReason
	srv.Status.Applied = &ap
	return a, true
}

// reconcileDelete releases everything the server holds, then lets it go. Nova shows the
// server with task_state deleting while it is torn down.
func (r *ServerReconciler) reconcileDelete(ctx context.Context, srv *computev1.Server) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(srv, computev1.Finalizer) {
		return reconcile.Result{}, nil
	}
	if srv.Status.TaskState != string(lifecycle.TaskDeleting) && srv.Status.VMState != "" {
		// Show the teardown as Nova does (task_state deleting) while it runs.
		before := srv.DeepCopy()
		srv.Status.TaskState = string(lifecycle.TaskDeleting)
		srv.Status.Operation = nil
		if err := r.patchStatus(ctx, before, srv, true); err != nil && !apierrors.IsConflict(err) {
			return reconcile.Result{}, err
		}
	}
	if err := r.Driver.Destroy(ctx, string(srv.UID)); err != nil {
		return reconcile.Result{}, fmt.Errorf("destroying instance: %w", err)
	}
	if err := r.releaseAddresses(ctx, srv); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.releaseVolumes(ctx, srv); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.dropShelvedImage(ctx, srv); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.completeDeleteRecord(ctx, srv); err != nil {
		return reconcile.Result{}, err
	}
	patch := client.MergeFrom(srv.DeepCopy())
	controllerutil.RemoveFinalizer(srv, computev1.Finalizer)
	if err := r.Patch(ctx, srv, patch); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("Deleted server", "uid", srv.UID)
	r.event(srv, "Normal", "Deleted", "Delete", "Released the instance and its addresses")
	return reconcile.Result{}, nil
}

// releaseAddresses frees the server's addresses on every network: no API write, the
// server's status (written next, or the server gone) is the record.
func (r *ServerReconciler) releaseAddresses(ctx context.Context, srv *computev1.Server) error {
	if err := r.Addresses.Release(ctx, string(srv.UID)); err != nil {
		return fmt.Errorf("releasing addresses: %w", err)
	}
	return nil
}

func (r *ServerReconciler) event(obj runtime.Object, typ, reason, action, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, typ, reason, action, "%s", msg)
	}
}

// SetupWithManager registers the controller; ServerActions wake the server they name.
func (r *ServerReconciler) SetupWithManager(mgr manager.Manager, workers int) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &computev1.ServerAction{}, IndexServerName,
		func(o client.Object) []string { return []string{o.(*computev1.ServerAction).Spec.ServerName} }); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &computev1.Server{}, IndexServerImage,
		imageWaitedFor); err != nil {
		return err
	}
	r.uids = uidindex.New()
	if err := r.uids.Watch(context.Background(), mgr.GetCache(), &computev1.Server{}); err != nil {
		return err
	}
	b := builder.ControllerManagedBy(mgr).
		For(&computev1.Server{}).
		Watches(&computev1.ServerAction{}, handler.EnqueueRequestsFromMapFunc(
			func(_ context.Context, o client.Object) []reconcile.Request {
				sa := o.(*computev1.ServerAction)
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ServerName}}}
			})).
		Watches(&computev1.Image{}, handler.EnqueueRequestsFromMapFunc(r.serversWaitingFor)).
		WithOptions(ctrl.Options{MaxConcurrentReconciles: workers})
	for _, src := range []source.Source{r.instanceSource(), r.powerSyncSource()} {
		if src != nil {
			b = b.WatchesRawSource(src)
		}
	}
	return b.Complete(r)
}

// imageWaitedFor is a server's IndexServerImage value: the image it boots from while it
// waits to build, none after.
func imageWaitedFor(o client.Object) []string {
	if srv := o.(*computev1.Server); waitingToBuild(srv) {
		return []string{srv.Spec.ImageRef}
	}
	return nil
}

// serversWaitingFor are the servers that wait to build from an image: those of its
// namespace, or of every namespace for a public image.
func (r *ServerReconciler) serversWaitingFor(ctx context.Context, o client.Object) []reconcile.Request {
	var opts []client.ListOption
	if o.GetNamespace() != r.PublicNamespace {
		opts = append(opts, client.InNamespace(o.GetNamespace()))
	}
	var list computev1.ServerList
	if err := r.List(ctx, &list, append(opts, client.MatchingFields{IndexServerImage: o.GetName()})...); err != nil {
		log.FromContext(ctx).Error(err, "Failed to list the servers waiting for an image", "image", o.GetName())
		return nil
	}
	// Other tenants' servers name an image they are shared as namespace/name.
	var others computev1.ServerList
	if err := r.List(ctx, &others, client.MatchingFields{IndexServerImage: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Failed to list the servers waiting for an image", "image", o.GetName())
		return nil
	}
	list.Items = append(list.Items, others.Items...)
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
