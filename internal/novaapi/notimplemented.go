package novaapi

import "net/http"

// Paths Nova or Rackspace serve that Kova does not serve yet: volume attachments. They answer
// 501 in Nova's body, after the server they name is found (404 otherwise), so a client
// learns the truth rather than a fake success.

func (h *handler) notImplementedRoutes() []route {
	var routes []route
	serverScoped := []struct{ path, what string }{
		{"servers/{}/os-volume_attachments", "Volume attachments"},
		{"servers/{}/os-volume_attachments/{}", "Volume attachments"},
	}
	for _, p := range serverScoped {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			routes = append(routes, endpoint(m, p.path, h.unimplementedForServer(p.what)))
		}
	}
	return routes
}

func (h *handler) unimplementedForServer(what string) func(*request) error {
	return func(rq *request) error {
		if _, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0)); err != nil {
			return err
		}
		return notImplemented(what)
	}
}
