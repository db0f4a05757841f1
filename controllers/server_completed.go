package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// A ServerAction ends in two writes: the server's status, which shows the end and records
// the action completed (status.completedActions, rules.RecordCompleted), then the action's
// outcome. Between the two (the second lost, the manager killed, or the ServerAction watch
// behind the Server watch) the action still reads as pending or running; the record makes
// it done all the same (rules.PendingActions), so it is never taken up again: a reboot or a
// start after a stop would otherwise run again from the state it led to. The record costs
// no write of its own: it rides on the status write that ends the task.

// completeRecorded writes the outcome of every action among actions that srv's status
// records completed but whose cached copy has not ended: the write after the status write
// was lost, or the cache is behind. Only then is the action read past the cache, so the
// outcome is written once; the usual reconcile reads nothing more.
func (r *ServerReconciler) completeRecorded(ctx context.Context, srv *computev1.Server, actions []computev1.ServerAction) error {
	for i := range actions {
		sa := &actions[i]
		done := rules.Completed(srv, sa)
		if done == nil || sa.Status.Phase.Ended() || !rules.ActionOf(srv, sa) {
			continue
		}
		if r.APIReader != nil {
			live := &computev1.ServerAction{}
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(sa), live); err != nil {
				if err := client.IgnoreNotFound(err); err != nil {
					return err
				}
				continue
			}
			if live.Status.Phase.Ended() || live.UID != sa.UID {
				continue
			}
			sa = live
		}
		if err := r.setActionPhase(ctx, sa, done.Phase, done.Message, srv); err != nil {
			return err
		}
	}
	return nil
}
