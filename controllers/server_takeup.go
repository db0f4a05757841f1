package controllers

import (
	"context"
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
)

// A ServerAction's task is run in the reconcile that takes it up: the driver is asked at
// once, and a task it finishes at once (a stop on an idle simulated host) ends in that
// reconcile's one status write, the action's outcome written after it. A task the driver
// does not finish at once is shown running by that write, and its action marked Running
// once it is shown.
//
// What must stay true: a task the server never showed is never ended unseen after the fact.
// When the status write of the reconcile that asked the driver loses (a conflict), the next
// reconcile takes the action up again; by then the task may have ended on the driver. The
// driver is idempotent by the action's uid (the task's token), so that reconcile finds the
// task begun already, does not ask again, and shows it running; the reconcile after that
// (its status write's event) ends it, as for any running task.

// runTakenUp runs the task startNextAction just began on srv's status for sa.
func (r *ServerReconciler) runTakenUp(ctx context.Context, srv *computev1.Server, sa *computev1.ServerAction) (reconcile.Result, error) {
	token := srv.Status.Operation.Token
	begun, err := r.begunBefore(ctx, srv, token)
	if err != nil {
		return reconcile.Result{}, err
	}
	var res reconcile.Result
	if !begun {
		if res, err = r.advance(ctx, srv); err != nil {
			return res, err
		}
	}
	if op := srv.Status.Operation; op != nil && op.Token == token {
		afterStatus(ctx, func(ctx context.Context) error {
			return r.setActionPhase(ctx, sa, computev1.ActionRunning, "", srv)
		})
	}
	return res, nil
}

// begunBefore says whether the driver has the task with token already, begun by an earlier
// reconcile whose status write did not land.
func (r *ServerReconciler) begunBefore(ctx context.Context, srv *computev1.Server, token string) (bool, error) {
	inst, err := r.Driver.Get(ctx, string(srv.UID))
	if errors.Is(err, compute.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return inst.Op != nil && inst.Op.Token == token, nil
}

// carriedOut completes, from the driver's record, an action the lifecycle now refuses
// because it was carried out: its task ended and the server's status shows it, but the
// write of its outcome, which follows the status write, did not land (a crash in between).
// Failing it as refused would report a stop that stopped the server as not done.
func (r *ServerReconciler) carriedOut(ctx context.Context, srv *computev1.Server, sa *computev1.ServerAction) (bool, error) {
	inst, err := r.Driver.Get(ctx, string(srv.UID))
	if errors.Is(err, compute.ErrNotFound) {
		return false, nil
	}
	if err != nil || inst.Op == nil || inst.Op.Token != string(sa.UID) || !inst.Op.Finished() {
		return false, err
	}
	phase, msg := computev1.ActionSucceeded, ""
	if inst.Op.Failed {
		phase, msg = computev1.ActionFailed, unknownFailure
		if inst.Op.Fault != nil {
			msg = inst.Op.Fault.Message
		}
	}
	return true, r.setActionPhase(ctx, sa, phase, msg, srv)
}

// aheadOfStatus says whether op, the driver's last task on srv, is that of a ServerAction
// still pending: begun by a reconcile whose status write lost, and to be taken up again.
func (r *ServerReconciler) aheadOfStatus(ctx context.Context, srv *computev1.Server, op *compute.OpStatus) (bool, error) {
	if op == nil {
		return false, nil
	}
	pending, err := r.pendingActions(ctx, srv)
	if err != nil {
		return false, err
	}
	for _, sa := range pending {
		if string(sa.UID) == op.Token {
			return true, nil
		}
	}
	return false, nil
}
