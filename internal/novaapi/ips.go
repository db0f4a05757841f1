package novaapi

import (
	"net/http"

	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /servers/{id}/ips and /servers/{id}/ips/{network}: a server's addresses by network
// label, without the extended type and MAC the server view carries.

func (h *handler) listIPs(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err == nil {
		srv, err = rq.withFloating(srv)
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"addresses": views.Addresses(srv, false)})
}

func (h *handler) showIPs(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err == nil {
		srv, err = rq.withFloating(srv)
	}
	if err != nil {
		return err
	}
	label := rq.param(1)
	addrs, ok := views.Addresses(srv, false)[label]
	if !ok {
		return notFound("Instance is not a member of specified network")
	}
	return rq.json(http.StatusOK, map[string]any{label: addrs})
}
