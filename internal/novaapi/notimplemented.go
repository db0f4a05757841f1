package novaapi

import "net/http"

// Paths Nova serves that Kova does not serve yet: updating a volume attachment (Nova's
// swap volume and, from 2.85, delete_on_termination). It answers 501 in Nova's body, after
// the server it names is found (404 otherwise), so a client learns the truth rather than a
// fake success.

func (h *handler) notImplementedRoutes() []route {
	return []route{
		endpoint(http.MethodPut, "servers/{}/os-volume_attachments/{}", h.unimplementedForServer("Updating a volume attachment")),
	}
}

func (h *handler) unimplementedForServer(what string) func(*request) error {
	return func(rq *request) error {
		if _, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0)); err != nil {
			return err
		}
		return notImplemented(what)
	}
}
