package novaapi

import "net/http"

// os-server-password is the password a guest encrypts with its keypair and posts to Nova's
// metadata service, for Windows images. Kova's simulated guests have no metadata service to
// post to, so a server's is always empty, as Nova shows a server whose guest posted none;
// clearing it (DELETE) has nothing to clear.

func (h *handler) showServerPassword(rq *request) error {
	if _, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0)); err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"password": ""})
}

func (h *handler) clearServerPassword(rq *request) error {
	if _, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0)); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
