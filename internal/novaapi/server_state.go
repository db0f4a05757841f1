package novaapi

import (
	"context"
	"sort"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// Nova sets a server's task_state in the API call itself (os-stop returns with the
// server in powering-off), so a client that polls right after an action sees the task,
// never the old settled state. Kova's controller takes a task up a moment later. To keep
// task_state honest in between, the API shows and checks the state a server is about to
// be in: the first step of the action it was just asked for (a ServerAction not yet taken
// up, or a spec change the controller has not observed yet). The lifecycle package says
// what that step is, the same as the controller will.

// observedState is what the controller last wrote; a server it has not seen yet is
// building and scheduling, as in Nova right after the create.
func observedState(srv *computev1.Server) lifecycle.State {
	if srv.Status.VMState == "" {
		return lifecycle.Building()
	}
	return lifecycle.State{
		VM:    lifecycle.VMState(srv.Status.VMState),
		Task:  lifecycle.TaskState(srv.Status.TaskState),
		Power: lifecycle.PowerState(srv.Status.PowerState),
	}
}

func launched(srv *computev1.Server) bool { return srv.Status.LaunchedAt != nil }

// projectedState is the state Nova would show: the observed one, with the task of a
// pending action or spec change that the lifecycle allows, and "deleting" while the
// server is being deleted.
func projectedState(srv *computev1.Server, actions []computev1.ServerAction) lifecycle.State {
	s := observedState(srv)
	if !srv.DeletionTimestamp.IsZero() {
		s.Task = lifecycle.TaskDeleting
		return s
	}
	if srv.Status.VMState == "" || srv.Status.Operation != nil || s.Task != lifecycle.TaskNone {
		return s
	}
	uid := string(srv.UID)
	for _, sa := range pendingActions(srv, actions) {
		a := controllers.LifecycleAction(&sa)
		if lifecycle.CheckLaunched(a, s, srv.Status.Locked, sa.Spec.OverrideLock, launched(srv), uid) == nil {
			return lifecycle.Begin(a, s)
		}
	}
	if srv.Generation > srv.Status.ObservedGeneration {
		if a, ok := controllers.NextSpecAction(&srv.Spec, &srv.Status, false); ok &&
			lifecycle.CheckLaunched(a, s, false, true, launched(srv), uid) == nil {
			return lifecycle.Begin(a, s)
		}
	}
	return s
}

// pendingActions are a server's ServerActions the controller has not taken up, oldest
// first, as the controller orders them.
func pendingActions(srv *computev1.Server, actions []computev1.ServerAction) []computev1.ServerAction {
	var out []computev1.ServerAction
	for _, sa := range actions {
		if sa.Spec.ServerName != srv.Name || sa.Namespace != srv.Namespace {
			continue
		}
		// Running but not yet on the server as cached: taken up a moment ago.
		running := sa.Status.Phase == computev1.ActionRunning &&
			(srv.Status.Operation == nil || srv.Status.Operation.ServerAction != sa.Name)
		if sa.Status.Phase != "" && sa.Status.Phase != computev1.ActionPending && !running {
			continue
		}
		if sa.CreationTimestamp.Before(&srv.CreationTimestamp) {
			continue
		}
		out = append(out, sa)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreationTimestamp.Equal(&out[j].CreationTimestamp) {
			return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// serverState reads a server's actions (the one accepted last past the cache:
// consistency.go) and projects its state.
func (h *handler) serverState(ctx context.Context, srv *computev1.Server) (lifecycle.State, error) {
	actions, _, err := h.actionsOf(ctx, srv)
	if err != nil {
		return lifecycle.State{}, err
	}
	return projectedState(srv, actions), nil
}

// check asks the lifecycle whether action a is allowed on srv now, as Nova's API guards
// do, and words a refusal as Nova's 409. The admin question (a SubjectAccessReview) is
// only asked when a lock is in the way.
func (rq *request) check(a lifecycle.Action, srv *computev1.Server, st lifecycle.State) error {
	g, _ := lifecycle.GuardFor(a)
	admin := false
	if srv.Spec.Locked && g.LockRefuses {
		var err error
		if admin, err = rq.isAdmin(); err != nil {
			return err
		}
	}
	err := lifecycle.CheckLaunched(a, st, srv.Spec.Locked, admin, launched(srv), string(srv.UID))
	if ce, ok := err.(*lifecycle.ConflictError); ok {
		return conflict("%s", ce.Message)
	}
	return err
}
