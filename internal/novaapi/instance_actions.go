package novaapi

import (
	"net/http"
	"slices"
	"sort"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /servers/{id}/os-instance-actions[/{request_id}]: the actions asked of a server,
// newest first. Actions with no desired-state form are ServerActions; the others (create,
// stop, lock, resize, ...) were recorded on the server when this API changed its spec.

// computeEvents are the compute manager events Nova records for each ServerAction kind.
var computeEvents = map[computev1.ActionType]string{
	computev1.ActionReboot:         "compute_reboot_instance",
	computev1.ActionRebuild:        "compute_rebuild_instance",
	computev1.ActionCreateImage:    "compute_snapshot_instance",
	computev1.ActionChangePassword: "compute_set_admin_password",
	computev1.ActionConfirmResize:  "compute_confirm_resize",
	computev1.ActionRevertResize:   "compute_revert_resize",
	computev1.ActionShelveOffload:  "compute_shelve_offload_instance",
}

// instanceAction is one entry, from either source.
type instanceAction struct {
	action    string
	requestID string
	userID    string
	start     time.Time
	updated   time.Time
	message   any
	seq       int
	sa        *computev1.ServerAction
}

// instanceActions finds the request's server and its actions, newest first.
func (h *handler) instanceActions(rq *request) (*computev1.Server, []instanceAction, error) {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return nil, nil, err
	}
	var out []instanceAction
	for i, ra := range recordedActions(srv) {
		out = append(out, instanceAction{action: ra.Action, requestID: ra.RequestID, userID: ra.UserID,
			start: ra.StartTime, updated: ra.StartTime, message: nil, seq: i})
	}
	sas, err := h.serverActions(rq.ctx, srv)
	if err != nil {
		return nil, nil, err
	}
	for i := range sas {
		sa := &sas[i]
		start := sa.CreationTimestamp.Time
		if sa.Status.StartTime != nil {
			start = sa.Status.StartTime.Time
		}
		updated := start
		if sa.Status.CompletionTime != nil {
			updated = sa.Status.CompletionTime.Time
		}
		user := sa.Annotations[annUserID]
		if user == "" {
			user = sa.Spec.RequestedBy
		}
		reqID := sa.Spec.RequestID
		if reqID == "" {
			reqID = "req-" + string(sa.UID)
		}
		var msg any
		if sa.Status.Phase == computev1.ActionFailed {
			msg = "Error"
		}
		out = append(out, instanceAction{action: string(sa.Spec.Action), requestID: reqID, userID: user,
			start: start, updated: updated, message: msg, seq: len(out) + i, sa: sa})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].start.Equal(out[j].start) {
			return out[i].start.After(out[j].start)
		}
		return out[i].seq > out[j].seq
	})
	return srv, out, nil
}

func (rq *request) instanceActionView(srv *computev1.Server, a instanceAction) map[string]any {
	v := map[string]any{
		"action":        a.action,
		"instance_uuid": string(srv.UID),
		"request_id":    a.requestID,
		"user_id":       a.userID,
		"project_id":    srv.Namespace,
		"start_time":    views.NaiveTime(a.start),
		"message":       a.message,
	}
	if rq.version.AtLeast(58) {
		v["updated_at"] = views.NaiveTime(a.updated)
	}
	return v
}

func (h *handler) listInstanceActions(rq *request) error {
	if rq.version.AtLeast(58) {
		if err := validateQuery(schemas.InstanceActionsQuery(rq.version), rq.r); err != nil {
			return err
		}
	}
	srv, actions, err := h.instanceActions(rq)
	if err != nil {
		return err
	}
	limit := len(actions)
	if rq.version.AtLeast(58) {
		q := queryObject(rq.r)
		window, err := changesWindow(q)
		if err != nil {
			return err
		}
		if window != nil {
			actions = slices.DeleteFunc(actions, func(a instanceAction) bool { return !window(a.updated) })
		}
		if actions, limit, err = page(q, actions, func(a instanceAction) string { return a.requestID }, markerMissing); err != nil {
			return err
		}
	}
	list := make([]any, 0, len(actions))
	for _, a := range actions {
		list = append(list, rq.instanceActionView(srv, a))
	}
	out := map[string]any{"instanceActions": list}
	if rq.version.AtLeast(58) && len(actions) > 0 {
		if l := rq.paginationLinks("servers/"+string(srv.UID)+"/os-instance-actions", len(actions), limit, actions[len(actions)-1].requestID); l != nil {
			out["links"] = l
		}
	}
	return rq.json(http.StatusOK, out)
}

func (h *handler) showInstanceAction(rq *request) error {
	srv, actions, err := h.instanceActions(rq)
	if err != nil {
		return err
	}
	id := rq.param(1)
	for _, a := range actions {
		if a.requestID != id {
			continue
		}
		v := rq.instanceActionView(srv, a)
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if admin || rq.version.AtLeast(51) {
			v["events"] = rq.actionEvents(srv, a, admin)
		}
		return rq.json(http.StatusOK, map[string]any{"instanceAction": v})
	}
	return notFound("Action %s not found", id)
}

// actionEvents is the compute event behind a ServerAction, once it has started. Actions
// done by a spec change show none.
func (rq *request) actionEvents(srv *computev1.Server, a instanceAction, admin bool) []any {
	sa := a.sa
	if sa == nil || sa.Status.StartTime == nil {
		return []any{}
	}
	ev := map[string]any{
		"event":       computeEvents[sa.Spec.Action],
		"start_time":  views.NaiveTime(sa.Status.StartTime.Time),
		"finish_time": views.NaiveOrNull(sa.Status.CompletionTime),
		"result":      nil,
	}
	switch sa.Status.Phase {
	case computev1.ActionSucceeded:
		ev["result"] = "Success"
	case computev1.ActionFailed:
		ev["result"] = "Error"
	}
	if admin {
		ev["traceback"] = nil
		if sa.Status.Phase == computev1.ActionFailed && sa.Status.Message != "" {
			ev["traceback"] = sa.Status.Message
		}
	}
	if rq.version.AtLeast(62) {
		ev["hostId"] = srv.Status.HostID
		if admin {
			ev["host"] = srv.Status.Host
		}
	}
	return []any{ev}
}
