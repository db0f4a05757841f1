package novaapi

import (
	"encoding/json"
	"net/http"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
)

// Rackspace's scheduled images (rax-si-image-schedule): enable, show and disable a server's
// schedule, which is Server.spec.imageSchedule; the image-schedule controller takes the
// snapshots.

type imageScheduleBody struct {
	Retention int32  `json:"retention"`
	DayOfWeek string `json:"day_of_week,omitempty"`
}

func imageScheduleView(s *computev1.ImageSchedule) map[string]any {
	return map[string]any{"image_schedule": imageScheduleBody{Retention: s.Retention, DayOfWeek: s.DayOfWeek}}
}

func (h *handler) showImageSchedule(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if srv.Spec.ImageSchedule == nil {
		return notFound("Scheduled images are not enabled for server %s.", rq.param(0))
	}
	return rq.json(http.StatusOK, imageScheduleView(srv.Spec.ImageSchedule))
}

// enableImageSchedule sets (or changes) the schedule. The matrix lets creators enable it,
// who may not edit a Server themselves (every other spec change is an admin's), so the
// shim writes it with its own identity once RBAC allowed the caller the Rackspace call.
func (h *handler) enableImageSchedule(rq *request) error {
	if _, err := rq.validBody(schemas.ImageSchedule); err != nil {
		return err
	}
	var body struct {
		ImageSchedule imageScheduleBody `json:"image_schedule"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	want := &computev1.ImageSchedule{Retention: body.ImageSchedule.Retention, DayOfWeek: body.ImageSchedule.DayOfWeek}
	if _, err := patchFresh(rq.ctx, h.client, srv, func(s *computev1.Server) error {
		s.Spec.ImageSchedule = want
		return nil
	}); err != nil {
		return err
	}
	return rq.json(http.StatusOK, imageScheduleView(want))
}

// disableImageSchedule removes the schedule, as the caller (an admin's call); the images
// taken stay.
func (h *handler) disableImageSchedule(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if srv.Spec.ImageSchedule == nil {
		return notFound("Scheduled images are not enabled for server %s.", rq.param(0))
	}
	if _, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		s.Spec.ImageSchedule = nil
		return nil
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}
