package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// DefaultImageScheduleCheck is how often a scheduled server is looked at again at most:
// the wait for the next period is cut to it, so a clock that jumps (or a test's fake one)
// is noticed within it.
const DefaultImageScheduleCheck = 5 * time.Minute

// imageScheduleRetry is the wait before another try when the server cannot be snapshot now
// (building, locked, another task running): Rackspace's service is best effort too.
const imageScheduleRetry = time.Minute

// ImageScheduleReconciler takes a server's scheduled images (Server.spec.imageSchedule):
// once a period it makes a createImage ServerAction, the same path as Nova's createImage,
// and it removes the server's scheduled images beyond the retention, oldest first. It
// writes no status: the actions and images it makes are the record.
type ImageScheduleReconciler struct {
	client.Client
	Clock clock.PassiveClock
	// Check bounds each wait (DefaultImageScheduleCheck when zero).
	Check time.Duration
}

// The controller's createImage actions are the Nova call, which the ServerAction webhook
// checks against the shim's RBAC as for anyone; the manager holds override-lock too, so a
// locked server is snapshot as well, as the provider's own service would.
// +kubebuilder:rbac:groups=nova.kova.dev,resources=servers/action,verbs=create
// +kubebuilder:rbac:groups=compute.kova.dev,resources=images,verbs=delete

// Reconcile handles one Server.
func (r *ImageScheduleReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	srv := &computev1.Server{}
	if err := r.Get(ctx, req.NamespacedName, srv); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	sched := srv.Spec.ImageSchedule
	if sched == nil || !srv.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	if err := r.prune(ctx, srv, int(sched.Retention)); err != nil {
		return reconcile.Result{}, err
	}
	now := r.Clock.Now()
	wait := rules.NextScheduledImage(sched, now).Sub(now)
	if period, due := rules.ScheduledImagePeriod(sched, now); due {
		taken, err := r.snapshot(ctx, srv, period)
		if err != nil {
			return reconcile.Result{}, err
		}
		if !taken {
			wait = min(wait, imageScheduleRetry)
		}
	}
	check := r.Check
	if check <= 0 {
		check = DefaultImageScheduleCheck
	}
	return reconcile.Result{RequeueAfter: min(wait, check)}, nil
}

// snapshot makes the period's createImage ServerAction unless it is there; it says false
// when the server cannot be snapshot now.
func (r *ImageScheduleReconciler) snapshot(ctx context.Context, srv *computev1.Server, period string) (bool, error) {
	name := rules.ScheduledImageActionName(srv, period)
	err := r.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: name}, &computev1.ServerAction{})
	if err == nil || !apierrors.IsNotFound(err) {
		return err == nil, err
	}
	st := rules.LifecycleState(&srv.Status)
	if srv.Status.VMState == "" || lifecycle.CheckLaunched(lifecycle.ActionCreateImage, st, srv.Status.Locked, true,
		rules.Launched(srv), string(srv.UID)) != nil {
		return false, nil
	}
	sa := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: srv.Namespace,
			Name:      name,
			Labels:    map[string]string{computev1.LabelServer: srv.Name, computev1.LabelScheduledImage: srv.Name},
		},
		Spec: computev1.ServerActionSpec{
			ServerName: srv.Name,
			Action:     computev1.ActionCreateImage,
			CreateImage: &computev1.CreateImageParams{
				ImageName: rules.ScheduledImageName(srv, period),
				Metadata:  map[string]string{computev1.MetadataScheduledImage: period},
			},
		},
	}
	if err := r.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, err
	}
	log.FromContext(ctx).Info("Started scheduled image", "server", srv.Name, "period", period)
	return true, nil
}

// prune deletes the server's scheduled images beyond retention.
func (r *ImageScheduleReconciler) prune(ctx context.Context, srv *computev1.Server, retention int) error {
	var imgs computev1.ImageList
	if err := r.List(ctx, &imgs, client.InNamespace(srv.Namespace), client.MatchingLabels{computev1.LabelServer: srv.Name}); err != nil {
		return err
	}
	for _, img := range rules.ScheduledImagesBeyond(imgs.Items, srv, retention) {
		uid := img.UID
		if err := r.Delete(ctx, img, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return err
		}
		log.FromContext(ctx).Info("Removed scheduled image past retention", "server", srv.Name, "image", img.Name)
	}
	return nil
}

// SetupWithManager registers the controller: it looks at scheduled servers, and again
// when one of a server's images comes or goes.
func (r *ImageScheduleReconciler) SetupWithManager(mgr manager.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	scheduled := predicate.NewPredicateFuncs(func(o client.Object) bool {
		srv, ok := o.(*computev1.Server)
		return ok && srv.Spec.ImageSchedule != nil
	})
	return builder.ControllerManagedBy(mgr).
		Named("imageschedule").
		For(&computev1.Server{}, builder.WithPredicates(scheduled)).
		Watches(&computev1.Image{}, handler.EnqueueRequestsFromMapFunc(
			func(_ context.Context, o client.Object) []reconcile.Request {
				name := o.GetLabels()[computev1.LabelServer]
				if name == "" || o.(*computev1.Image).Spec.Metadata[computev1.MetadataScheduledImage] == "" {
					return nil
				}
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
			})).
		Complete(r)
}
