package rules

import (
	"sort"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// LifecycleAction is the lifecycle action a ServerAction asks for.
func LifecycleAction(sa *computev1.ServerAction) lifecycle.Action {
	switch sa.Spec.Action {
	case computev1.ActionReboot:
		if sa.Spec.Reboot != nil && sa.Spec.Reboot.Type == "HARD" {
			return lifecycle.ActionRebootHard
		}
		return lifecycle.ActionRebootSoft
	default:
		return lifecycle.Action(sa.Spec.Action)
	}
}

// PendingActions are the ServerActions of srv (among actions) that the controller has not
// taken up, oldest first, in the order the controller takes them up. A Running action that
// no task on the server names counts as pending: it was taken up by a reconcile whose
// status write did not land (or has not reached this reader yet), and its token (the
// action's uid) makes taking it up again safe. Actions of an earlier server of the same
// name are not srv's (ActionOf). A record of a spec-driven action
// (LabelFromSpec) is never a request.
func PendingActions(srv *computev1.Server, actions []computev1.ServerAction) []computev1.ServerAction {
	var out []computev1.ServerAction
	for _, sa := range actions {
		if !ActionOf(srv, &sa) || sa.Labels[computev1.LabelFromSpec] != "" {
			continue
		}
		running := sa.Status.Phase == computev1.ActionRunning &&
			(srv.Status.Operation == nil || srv.Status.Operation.ServerAction != sa.Name)
		if sa.Status.Phase != "" && sa.Status.Phase != computev1.ActionPending && !running {
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
