package rules

import (
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/types"

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
// (LabelFromSpec) is never a request. Nor is an action srv's status records as completed
// (Completed), whatever its own status says: the server's status is written first, the
// action's outcome after it (or, after a crash in between, by the next leader), and the
// two are read through different watches.
func PendingActions(srv *computev1.Server, actions []computev1.ServerAction) []computev1.ServerAction {
	var out []computev1.ServerAction
	for _, sa := range actions {
		if !ActionOf(srv, &sa) || sa.Labels[computev1.LabelFromSpec] != "" || Completed(srv, &sa) != nil {
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

// Completed is the record on srv's status of sa's end (status.completedActions), or nil.
func Completed(srv *computev1.Server, sa *computev1.ServerAction) *computev1.CompletedAction {
	for i := range srv.Status.CompletedActions {
		if c := &srv.Status.CompletedActions[i]; c.UID == sa.UID && sa.UID != "" {
			return c
		}
	}
	return nil
}

// RecordCompleted records on st that the ServerAction uid ended in phase (msg: why it
// failed), newest last, keeping the last MaxCompletedActions. An entry is needed only until
// its action's own outcome is seen: the entries of the actions that seen (among the
// server's actions as the caller read them) shows finished are dropped, so a server
// usually carries one entry, the last.
func RecordCompleted(st *computev1.ServerStatus, uid types.UID, phase computev1.ActionPhase, msg string, seen []computev1.ServerAction) {
	if r := []rune(msg); len(r) > computev1.MaxCompletedMessage {
		msg = string(r[:computev1.MaxCompletedMessage])
	}
	ended := map[types.UID]bool{}
	for i := range seen {
		if seen[i].Status.Phase.Ended() {
			ended[seen[i].UID] = true
		}
	}
	list := slices.DeleteFunc(slices.Clone(st.CompletedActions), func(c computev1.CompletedAction) bool {
		return c.UID == uid || ended[c.UID]
	})
	list = append(list, computev1.CompletedAction{UID: uid, Phase: phase, Message: msg})
	if n := len(list) - computev1.MaxCompletedActions; n > 0 {
		list = list[n:]
	}
	st.CompletedActions = list
}
