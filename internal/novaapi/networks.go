package novaapi

import (
	"net/http"
	"sort"

	"github.com/kova-dev/kova/internal/novaapi/views"
)

// Rackspace Cloud Networks (os-networksv2): the tenant's networks and the shared ones,
// as views.Network. Creating and deleting networks through it is not built
// yet (see notimplemented.go).

func (h *handler) listNetworks(rq *request) error {
	nets, err := h.availableNetworks(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return err
	}
	sort.SliceStable(nets, func(i, j int) bool { return nets[i].DisplayName() < nets[j].DisplayName() })
	out := make([]views.Network, 0, len(nets))
	for i := range nets {
		out = append(out, views.NewNetwork(&nets[i]))
	}
	return rq.json(http.StatusOK, map[string]any{"networks": out})
}

func (h *handler) showNetwork(rq *request) error {
	n, ok, err := h.network(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Network could not be found.")
	}
	return rq.json(http.StatusOK, map[string]any{"network": views.NewNetwork(n)})
}
