package novaapi

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /servers/{id}/os-instance-actions[/{request_id}]: the actions asked of a server,
// newest first. Every action is a ServerAction, whether asked through this API, applied
// with kubectl, or started by a change of spec (the controller's record of it); the create
// is read from the server itself (its creator, the create's request id and its creation
// time), so a boot writes nothing for it.

// computeEvents are the compute manager events Nova records for each ServerAction kind.
var computeEvents = map[computev1.ActionType]string{
	computev1.ActionReboot:         "compute_reboot_instance",
	computev1.ActionRebuild:        "compute_rebuild_instance",
	computev1.ActionCreateImage:    "compute_snapshot_instance",
	computev1.ActionChangePassword: "compute_set_admin_password",
	computev1.ActionConfirmResize:  "compute_confirm_resize",
	computev1.ActionRevertResize:   "compute_revert_resize",
	computev1.ActionShelveOffload:  "compute_shelve_offload_instance",
	computev1.ActionStop:           "compute_stop_instance",
	computev1.ActionStart:          "compute_start_instance",
	computev1.ActionPause:          "compute_pause_instance",
	computev1.ActionUnpause:        "compute_unpause_instance",
	computev1.ActionSuspend:        "compute_suspend_instance",
	computev1.ActionResume:         "compute_resume_instance",
	computev1.ActionShelve:         "compute_shelve_instance",
	computev1.ActionUnshelve:       "compute_unshelve_instance",
	computev1.ActionRescue:         "compute_rescue_instance",
	computev1.ActionUnrescue:       "compute_unrescue_instance",
	computev1.ActionResize:         "compute_prep_resize",
	computev1.ActionDelete:         "compute_terminate_instance",
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

// instanceActions finds the request's server and its actions, newest first; from 2.21, a
// deleted server's too (deletedServerActions).
func (h *handler) instanceActions(rq *request) (*computev1.Server, []instanceAction, error) {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	var sas []computev1.ServerAction
	var create instanceAction
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.code == http.StatusNotFound && rq.version.AtLeast(21):
		if srv, create, sas, err = h.deletedServerActions(rq.ctx, rq.caller.Tenant, rq.param(0)); err != nil {
			return nil, nil, err
		}
	case err != nil:
		return nil, nil, err
	default:
		create = createAction(srv)
		if sas, err = h.serverActions(rq.ctx, srv); err != nil {
			return nil, nil, err
		}
	}
	out := []instanceAction{create}
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

// createAction is the create's record, read from the server: a server made with kubectl
// has no Nova request id, and gets one made from its uid.
func createAction(srv *computev1.Server) instanceAction {
	reqID := srv.Annotations[annRequestID]
	if reqID == "" {
		reqID = "req-" + string(srv.UID)
	}
	start := srv.CreationTimestamp.UTC()
	return instanceAction{action: "create", requestID: reqID, userID: srv.Annotations[annUserID],
		start: start, updated: start, message: nil}
}

// instanceActionView is one action as Nova shows it (views/instance_action.go).
func (rq *request) instanceActionView(srv *computev1.Server, a instanceAction) *views.InstanceAction {
	return views.NewInstanceAction(views.InstanceAction{
		Action: a.action, InstanceUUID: string(srv.UID), RequestID: a.requestID, UserID: a.userID, ProjectID: srv.Namespace,
	}, a.start, a.updated, a.message != nil, rq.version)
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
			events := rq.actionEvents(srv, a, admin)
			v.Events = &events
		}
		return rq.json(http.StatusOK, map[string]any{"instanceAction": v})
	}
	return notFound("Action %s not found", id)
}

// actionEvents is the compute event behind a ServerAction, once it has started. The
// create, and a lock or unlock (which no compute host does), show none.
func (rq *request) actionEvents(srv *computev1.Server, a instanceAction, admin bool) []views.ActionEvent {
	sa := a.sa
	if sa == nil || sa.Status.StartTime == nil || computeEvents[sa.Spec.Action] == "" {
		return []views.ActionEvent{}
	}
	in := views.EventInput{
		Event: computeEvents[sa.Spec.Action], Start: sa.Status.StartTime.Time, Finish: sa.Status.CompletionTime,
		Message: sa.Status.Message, HostID: srv.Status.HostID, Host: srv.Status.Host, Admin: admin,
	}
	switch sa.Status.Phase {
	case computev1.ActionSucceeded:
		in.Result = "Success"
	case computev1.ActionFailed:
		in.Result = "Error"
	}
	return []views.ActionEvent{views.NewActionEvent(in, rq.version)}
}
