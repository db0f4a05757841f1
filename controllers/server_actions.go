package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// startSpecTask starts the action that moves the server toward its spec. The task is
// recorded first and run on the next reconcile, so a crash in between cannot start a
// backend operation nobody knows about.
func (r *ServerReconciler) startSpecTask(ctx context.Context, srv *computev1.Server) (reconcile.Result, error) {
	a, ok := rules.NextSpecAction(&srv.Spec, &srv.Status, rules.Applied(&srv.Status), r.OffloadShelved)
	if !ok || heldByDrift(srv, a) {
		srv.Status.Blocked = nil
		if !ok && rules.CarriesOut(&srv.Status) {
			// Whatever changed is what the server already is.
			ap := rules.AppliedOf(&srv.Spec)
			ap.Locked, ap.LockedReason = rules.Applied(&srv.Status).Locked, rules.Applied(&srv.Status).LockedReason
			srv.Status.Applied = &ap
		}
		return reconcile.Result{}, nil
	}
	launched := srv.Status.LaunchedAt != nil
	if err := lifecycle.CheckLaunched(a, rules.LifecycleState(&srv.Status), false, true, launched, string(srv.UID)); err != nil {
		srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonActionRefused, Message: err.Error()}
		return reconcile.Result{}, nil
	}
	target := &computev1.ServerOperation{}
	switch a {
	case lifecycle.ActionResize:
		if _, err := refs.Flavor(ctx, r.Client, srv.Spec.FlavorRef); err != nil {
			return r.blocked(srv, err)
		}
		target.Flavor = srv.Spec.FlavorRef
	case lifecycle.ActionRebuild:
		if err := r.activeImage(ctx, srv, srv.Spec.ImageRef); err != nil {
			return r.blocked(srv, err)
		}
		target.Image = srv.Spec.ImageRef
	}
	record := ""
	if a != lifecycle.ActionShelveOffload {
		// Offloading after a shelve is the shelve's own end in Nova, not an action asked for.
		// The record is written once the task is on the server's status: a reconcile whose
		// status write loses leaves no record of a task that never started.
		record = specRecordName(srv, a)
		afterStatus(ctx, func(ctx context.Context) error {
			return r.recordSpecAction(ctx, srv, record, a, target, computev1.ActionRunning, "")
		})
	}
	token := fmt.Sprintf("%s%s-%s", a, specTokenGeneration(srv), strconv.FormatInt(r.now().UnixNano(), 36))
	r.beginTask(srv, a, token, record, target)
	ap := rules.AfterAction(rules.Applied(&srv.Status), &srv.Spec, a)
	srv.Status.Applied = &ap
	log.FromContext(ctx).Info("Started task", "action", a)
	return requeueSoon(), nil
}

// specRecordName is the name of the record of the spec-driven action a: the server's
// generation and the action, so a reconcile that runs again finds it.
func specRecordName(srv *computev1.Server, a lifecycle.Action) string {
	return fmt.Sprintf("%.200s-%s-g%d", srv.Name, strings.ToLower(string(a)), srv.Generation)
}

// specTokenGeneration marks the token of a spec-driven task (a ServerAction's task has the
// action's uid): "-g<generation>".
func specTokenGeneration(srv *computev1.Server) string { return fmt.Sprintf("-g%d", srv.Generation) }

// specTask says whether op was started by a spec change (its token is "<action>-g<n>-...").
func specTask(op *computev1.ServerOperation) bool {
	return strings.HasPrefix(op.Token, op.Action+"-g")
}

// recordSpecAction writes, under name, the record of an action a spec change started: a
// ServerAction labelled LabelFromSpec in phase, which the task completes as it does any
// other action's. So os-instance-actions has one source whichever way an action was asked.
func (r *ServerReconciler) recordSpecAction(ctx context.Context, srv *computev1.Server, name string, a lifecycle.Action, target *computev1.ServerOperation, phase computev1.ActionPhase, msg string) error {
	sa := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: srv.Namespace,
			Name:      name,
			Labels: map[string]string{computev1.LabelServer: srv.Name, computev1.LabelFromSpec: "true",
				computev1.LabelServerUID: string(srv.UID)},
		},
		Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionType(a)},
	}
	switch a {
	case lifecycle.ActionResize:
		sa.Spec.Resize = &computev1.ResizeParams{FlavorRef: target.Flavor}
	case lifecycle.ActionRebuild:
		sa.Spec.Rebuild = &computev1.RebuildParams{ImageRef: target.Image}
	case lifecycle.ActionLock:
		sa.Spec.Lock = &computev1.LockParams{Reason: srv.Status.LockedReason}
	}
	err := r.Create(ctx, sa)
	if apierrors.IsAlreadyExists(err) {
		err = r.Get(ctx, client.ObjectKeyFromObject(sa), sa)
	}
	if err != nil {
		return err
	}
	return r.setActionPhase(ctx, sa, phase, msg, srv)
}

func (r *ServerReconciler) blocked(srv *computev1.Server, err error) (reconcile.Result, error) {
	if isTransient(err) {
		return reconcile.Result{}, err
	}
	srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonDependencyError, Message: err.Error()}
	return reconcile.Result{RequeueAfter: requeueDependency}, nil
}

// activeImage checks that an image exists for the server and is active.
func (r *ServerReconciler) activeImage(ctx context.Context, srv *computev1.Server, name string) error {
	img, err := refs.Image(ctx, r.Client, srv.Namespace, r.PublicNamespace, name)
	if err != nil {
		return err
	}
	if img.Status.Status != computev1.ImageActive {
		return &refs.InvalidError{Message: fmt.Sprintf("Image %s is not active.", name)}
	}
	return nil
}

// pendingActions are the server's ServerActions not yet taken up, oldest first.
func (r *ServerReconciler) pendingActions(ctx context.Context, srv *computev1.Server) ([]computev1.ServerAction, error) {
	_, pending, err := r.serverActions(ctx, srv)
	return pending, err
}

// serverActions are the server's ServerActions as cached, all of them and those not yet
// taken up (oldest first).
func (r *ServerReconciler) serverActions(ctx context.Context, srv *computev1.Server) (all, pending []computev1.ServerAction, err error) {
	var list computev1.ServerActionList
	if err := r.List(ctx, &list, client.InNamespace(srv.Namespace), client.MatchingFields{IndexServerName: srv.Name}); err != nil {
		return nil, nil, err
	}
	return list.Items, rules.PendingActions(srv, list.Items), nil
}

// startNextAction takes up the oldest pending ServerAction: refused ones fail at once with
// the lifecycle's message (Nova's 409), the first accepted one starts (its task is begun on
// srv's status, the driver not yet asked). It returns the action taken up, or how long to
// wait for what the oldest action still needs (nothing overtakes it meanwhile).
func (r *ServerReconciler) startNextAction(ctx context.Context, srv *computev1.Server) (*computev1.ServerAction, time.Duration, error) {
	all, pending, err := r.serverActions(ctx, srv)
	if err != nil {
		return nil, 0, err
	}
	if err := r.completeRecorded(ctx, srv, all); err != nil {
		return nil, 0, err
	}
	for i := range pending {
		sa := &pending[i]
		if pending, err := r.stillPending(ctx, sa); err != nil || !pending {
			return nil, 0, err
		}
		a := rules.LifecycleAction(sa)
		launched := srv.Status.LaunchedAt != nil
		if err := lifecycle.CheckLaunched(a, rules.LifecycleState(&srv.Status), srv.Status.Locked, sa.Spec.OverrideLock, launched, string(srv.UID)); err != nil {
			if done, err := r.carriedOut(ctx, srv, sa); done || err != nil {
				if err != nil {
					return nil, 0, err
				}
				continue
			}
			if err := r.setActionPhase(ctx, sa, computev1.ActionFailed, err.Error(), srv); err != nil {
				return nil, 0, err
			}
			r.event(srv, corev1.EventTypeWarning, "ActionRefused", string(a), err.Error())
			continue
		}
		if a == lifecycle.ActionLock || a == lifecycle.ActionUnlock {
			// Instant in Nova: no task, and the next action may start at once. Locking a
			// locked server changes nothing, not even the reason.
			switch {
			case a == lifecycle.ActionUnlock:
				srv.Status.Locked, srv.Status.LockedReason = false, ""
			case !srv.Status.Locked:
				srv.Status.Locked, srv.Status.LockedReason = true, ""
				if sa.Spec.Lock != nil {
					srv.Status.LockedReason = sa.Spec.Lock.Reason
				}
			}
			rules.RecordCompleted(&srv.Status, sa.UID, computev1.ActionSucceeded, "", all)
			afterStatus(ctx, func(ctx context.Context) error {
				return r.setActionPhase(ctx, sa, computev1.ActionSucceeded, "", srv)
			})
			continue
		}
		target, rebuilt, err := r.prepareAction(ctx, srv, sa, a)
		var wait *waitError
		switch {
		case errors.As(err, &wait):
			srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonDependencyError, Message: wait.message}
			return nil, wait.after, nil
		case err != nil && isTransient(err):
			return nil, 0, err
		case err != nil:
			if err := r.setActionPhase(ctx, sa, computev1.ActionFailed, err.Error(), srv); err != nil {
				return nil, 0, err
			}
			continue
		}
		r.beginTask(srv, a, string(sa.UID), sa.Name, target)
		rules.ApplyRebuild(&srv.Status, rebuilt)
		log.FromContext(ctx).Info("Started action", "action", a, "serverAction", sa.Name, "by", sa.Spec.RequestedBy)
		return sa, 0, nil
	}
	return nil, 0, nil
}

// stillPending reads an action past the cache before it is taken up (started, refused or,
// for a lock, carried out): the Server and ServerAction caches are fed by two watches, so
// the server may already show the outcome of an action whose cached copy is still pending
// or running (after a watch is broken and listed again, say). Such an action must be
// neither refused (its success overwritten) nor carried out a second time over the state
// it led to (a reboot seen done by a client, then rebooting again). The server's next
// event (the action's own update) brings the reconcile back.
func (r *ServerReconciler) stillPending(ctx context.Context, sa *computev1.ServerAction) (bool, error) {
	if r.APIReader == nil {
		return true, nil
	}
	live := &computev1.ServerAction{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(sa), live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if live.Status.Phase.Ended() {
		return false, nil
	}
	*sa = *live
	return true, nil
}

// prepareAction checks what an action needs and makes what it makes up front: the image a
// createImage fills (Nova returns its id at once, queued). For a rebuild it also returns
// what the rebuild gives the server beyond its image (rebuildParams).
func (r *ServerReconciler) prepareAction(ctx context.Context, srv *computev1.Server, sa *computev1.ServerAction, a lifecycle.Action) (*computev1.ServerOperation, *computev1.RebuildParams, error) {
	target := &computev1.ServerOperation{}
	switch a {
	case lifecycle.ActionRebuild:
		target.Image = srv.Status.Image
		if sa.Spec.Rebuild != nil && sa.Spec.Rebuild.ImageRef != "" {
			target.Image = sa.Spec.Rebuild.ImageRef
		}
		if err := r.activeImage(ctx, srv, target.Image); err != nil {
			return nil, nil, err
		}
		rebuilt, err := r.rebuildParams(ctx, sa)
		if err != nil {
			return nil, nil, err
		}
		return target, rebuilt, nil
	case lifecycle.ActionResize:
		// A resize asked for imperatively: the server's spec is the user's and stays as it is.
		if sa.Spec.Resize == nil {
			return nil, nil, &refs.InvalidError{Message: "resize needs spec.resize.flavorRef"}
		}
		if _, err := refs.Flavor(ctx, r.Client, sa.Spec.Resize.FlavorRef); err != nil {
			return nil, nil, err
		}
		target.Flavor = sa.Spec.Resize.FlavorRef
	case lifecycle.ActionChangePassword:
		if err := r.checkPasswordSecret(ctx, sa); err != nil {
			return nil, nil, err
		}
	case lifecycle.ActionCreateImage:
		img, err := r.createSnapshotImage(ctx, srv, sa)
		if err != nil {
			return nil, nil, err
		}
		if sa.Status.ImageName != img.Name {
			patch := client.MergeFrom(sa.DeepCopy())
			sa.Status.ImageName = img.Name
			if err := r.Status().Patch(ctx, sa, patch); err != nil {
				return nil, nil, err
			}
		}
		target.Image = img.Name
	}
	return target, nil, nil
}

// rebuildParams is what the rebuild sa gives the server beyond its image, with the keypair
// it names resolved among its requester's keypairs to the keypair's Nova name. The keypair
// is checked again here, as a build checks spec.keyName: one deleted since the action was
// accepted fails the action with Nova's message, and the server is left as it was.
func (r *ServerReconciler) rebuildParams(ctx context.Context, sa *computev1.ServerAction) (*computev1.RebuildParams, error) {
	p := sa.Spec.Rebuild
	if p == nil || p.KeyName == nil || *p.KeyName == "" {
		return p, nil
	}
	var kp *computev1.Keypair
	if err := r.resolve(func(c client.Reader) (err error) {
		kp, err = refs.Keypair(ctx, c, sa.Namespace, sa.Spec.RequestedBy, *p.KeyName)
		return err
	}); err != nil {
		return nil, err
	}
	resolved := p.DeepCopy()
	resolved.KeyName = ptr.To(kp.NovaName())
	return resolved, nil
}

func (r *ServerReconciler) createSnapshotImage(ctx context.Context, srv *computev1.Server, sa *computev1.ServerAction) (*computev1.Image, error) {
	img := rules.SnapshotImage(srv, sa)
	if err := controllerutil.SetOwnerReference(sa, img, r.Scheme); err != nil {
		return nil, err
	}
	// The snapshot outlives the action that made it, as in Glance: drop the owner link
	// again but keep the deterministic name that makes this idempotent.
	img.OwnerReferences = nil
	err := r.Create(ctx, img)
	if apierrors.IsAlreadyExists(err) {
		err = r.Get(ctx, client.ObjectKeyFromObject(img), img)
	}
	if err != nil {
		return nil, err
	}
	return img, r.patchImagePhase(ctx, img, computev1.ImageQueued)
}

// setSnapshotPhase moves the image a createImage fills: saving while the server uploads,
// active when done, killed when the snapshot failed.
func (r *ServerReconciler) setSnapshotPhase(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation, phase computev1.ImagePhase) error {
	img := &computev1.Image{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: op.Image}, img); err != nil {
		return client.IgnoreNotFound(err)
	}
	return r.patchImagePhase(ctx, img, phase)
}

func (r *ServerReconciler) patchImagePhase(ctx context.Context, img *computev1.Image, phase computev1.ImagePhase) error {
	if img.Status.Status == phase {
		return nil
	}
	patch := client.MergeFrom(img.DeepCopy())
	now := metav1.NewTime(r.now())
	img.Status.Status = phase
	img.Status.Updated = &now
	switch phase {
	case computev1.ImageActive:
		img.Status.Progress = 100
		img.Status.SizeBytes = 1 << 30
	case computev1.ImageSaving:
		img.Status.Progress = 0
	}
	img.Status.ObservedGeneration = img.Generation
	setImageConditions(img)
	err := r.Status().Patch(ctx, img, patch)
	if errors.Is(err, context.Canceled) {
		return err
	}
	return client.IgnoreNotFound(err)
}
