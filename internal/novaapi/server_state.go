package novaapi

import (
	"context"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// serverState reads a server's actions (the one accepted last past the cache:
// consistency.go) and projects its state.
func (h *handler) serverState(ctx context.Context, srv *computev1.Server) (lifecycle.State, error) {
	actions, _, _, err := h.actionsOf(ctx, srv)
	if err != nil {
		return lifecycle.State{}, err
	}
	return rules.ProjectedState(srv, actions), nil
}

// check asks the lifecycle whether action a is allowed on srv now, as Nova's API guards
// do, and words a refusal as Nova's 409. The admin question (a SubjectAccessReview) is
// only asked when a lock is in the way.
func (rq *request) check(a lifecycle.Action, srv *computev1.Server, st lifecycle.State) error {
	g, _ := lifecycle.GuardFor(a)
	admin := false
	if srv.Status.Locked && g.LockRefuses {
		var err error
		if admin, err = rq.isAdmin(); err != nil {
			return err
		}
	}
	err := lifecycle.CheckLaunched(a, st, srv.Status.Locked, admin, rules.Launched(srv), string(srv.UID))
	if ce, ok := err.(*lifecycle.ConflictError); ok {
		return conflict("%s", ce.Message)
	}
	return err
}
