package rules

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// LifecycleState is the state a server's status records, as the controller wrote it.
func LifecycleState(st *computev1.ServerStatus) lifecycle.State {
	return lifecycle.State{
		VM:    lifecycle.VMState(st.VMState),
		Task:  lifecycle.TaskState(st.TaskState),
		Power: lifecycle.PowerState(st.PowerState),
	}
}

// ObservedState is what the controller last wrote; a server it has not seen yet is
// building and scheduling, as in Nova right after the create.
func ObservedState(srv *computev1.Server) lifecycle.State {
	if srv.Status.VMState == "" {
		return lifecycle.Building()
	}
	return LifecycleState(&srv.Status)
}

// Launched says whether the server ever finished building (Nova's launched_at).
func Launched(srv *computev1.Server) bool { return srv.Status.LaunchedAt != nil }

// Nova sets a server's task_state in the API call itself (os-stop returns with the server
// in powering-off), so a client that polls right after an action sees the task, never the
// old settled state. Kova's controller takes a task up a moment later. To keep task_state
// honest in between, the API shows and checks the state a server is about to be in: the
// first step of the action it was just asked for (a ServerAction not yet taken up, or a
// spec change the controller has not observed yet), the same step the controller takes.

// ProjectedState is the state Nova would show for srv, given its ServerActions: the
// observed one, with the task of a pending action or spec change that the lifecycle
// allows, and "deleting" while the server is being deleted. A lock or unlock not yet
// carried out is instant in Nova: it shows at once, on srv's status (srv is the caller's
// copy), as ProjectLocks puts it; so do the keypair and user data of a rebuild about to
// start, which Nova's API stores before it answers.
func ProjectedState(srv *computev1.Server, actions []computev1.ServerAction) lifecycle.State {
	s := ObservedState(srv)
	if !srv.DeletionTimestamp.IsZero() {
		s.Task = lifecycle.TaskDeleting
		return s
	}
	if srv.Status.VMState == "" || srv.Status.Operation != nil || s.Task != lifecycle.TaskNone {
		ProjectLocks(srv, PendingActions(srv, actions))
		return s
	}
	uid := string(srv.UID)
	for _, sa := range PendingActions(srv, actions) {
		a := LifecycleAction(&sa)
		if lifecycle.CheckLaunched(a, s, srv.Status.Locked, sa.Spec.OverrideLock, Launched(srv), uid) != nil {
			continue
		}
		if a == lifecycle.ActionLock || a == lifecycle.ActionUnlock {
			ProjectLocks(srv, []computev1.ServerAction{sa})
			continue
		}
		if a == lifecycle.ActionRebuild {
			ApplyRebuild(&srv.Status, sa.Spec.Rebuild)
		}
		return lifecycle.Begin(a, s)
	}
	if srv.Generation > srv.Status.ObservedGeneration {
		if a, ok := NextSpecAction(&srv.Spec, &srv.Status, Applied(&srv.Status), false); ok &&
			lifecycle.CheckLaunched(a, s, false, true, Launched(srv), uid) == nil {
			return lifecycle.Begin(a, s)
		}
	}
	return s
}

// ProjectLocks shows on srv's status the locks and unlocks among actions, in order, as the
// controller carries them out: locking a locked server changes nothing, not even the reason.
func ProjectLocks(srv *computev1.Server, actions []computev1.ServerAction) {
	for _, sa := range actions {
		switch sa.Spec.Action {
		case computev1.ActionLock:
			if !srv.Status.Locked {
				srv.Status.Locked, srv.Status.LockedReason = true, ""
				if sa.Spec.Lock != nil {
					srv.Status.LockedReason = sa.Spec.Lock.Reason
				}
			}
		case computev1.ActionUnlock:
			srv.Status.Locked, srv.Status.LockedReason = false, ""
		}
	}
}
