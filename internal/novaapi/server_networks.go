package novaapi

import (
	"context"
	"encoding/json"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// The networks a create asks for: "networks" read, and resolved to the tenant's and the
// shared networks.

// nwRequest is one requested network, or auto/none.
type nwRequest struct {
	UUID    *string `json:"uuid"`
	FixedIP *string `json:"fixed_ip"`
	Port    *string `json:"port"`
}

// parseNetworks reads "networks": a list of requests, or (from 2.37) "auto" or "none".
// Before 2.37 an absent list behaves as auto, without the error when nothing is there.
func parseNetworks(raw json.RawMessage) ([]nwRequest, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "legacy", nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		return nil, word, nil
	}
	var reqs []nwRequest
	if err := json.Unmarshal(raw, &reqs); err != nil {
		return nil, "", badRequest("Bad networks format")
	}
	ports := map[string]bool{}
	for _, r := range reqs {
		if r.Port != nil && *r.Port != "" {
			if ports[*r.Port] {
				return nil, "", badRequest("Port ID '%s' was specified twice: you cannot attach a port multiple times.", *r.Port)
			}
			if r.FixedIP != nil {
				return nil, "", badRequest("Specified Fixed IP '%s' cannot be used with port '%s': the two cannot be specified together.", *r.FixedIP, *r.Port)
			}
			ports[*r.Port] = true
			continue
		}
		if r.UUID == nil {
			return nil, "", badRequest("Bad network format: missing 'uuid'")
		}
		if !js.IsUUIDLike(*r.UUID) {
			return nil, "", badRequest("Bad networks format: network uuid is not in proper format (%s)", *r.UUID)
		}
	}
	return reqs, "", nil
}

// resolveNetworks turns requested networks into attachments. "auto" (and, before 2.37, no
// request at all) takes the one network the tenant can use: none is an error for auto and
// a server without ports before 2.37, more than one is ambiguous.
func (h *handler) resolveNetworks(rq *request, reqs []nwRequest, mode string) ([]computev1.NetworkAttachment, error) {
	out := []computev1.NetworkAttachment{}
	switch mode {
	case "none":
		return out, nil
	case "auto", "legacy":
		nets, err := h.availableNetworks(rq.ctx, rq.caller.Tenant)
		if err != nil {
			return nil, err
		}
		switch {
		case len(nets) == 1:
			return []computev1.NetworkAttachment{{Name: nets[0].Name}}, nil
		case len(nets) > 1:
			return nil, conflict("More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
		case mode == "auto":
			return nil, badRequest("Unable to automatically allocate a network for project %s", rq.caller.Tenant)
		}
		return out, nil
	}
	for _, r := range reqs {
		if r.Port != nil && *r.Port != "" {
			return nil, badRequest("Port id %s could not be found.", *r.Port)
		}
		net, ok, err := h.bootNetwork(rq.ctx, rq.caller.Tenant, js.CanonicalUUID(*r.UUID))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badRequest("Network %s could not be found.", *r.UUID)
		}
		a := computev1.NetworkAttachment{Name: net.Name}
		if r.FixedIP != nil {
			a.FixedIP = *r.FixedIP
		}
		out = append(out, a)
	}
	return out, nil
}

// availableNetworks are the tenant's networks and the shared ones, from the cache.
func (h *handler) availableNetworks(ctx context.Context, ns string) ([]computev1.Network, error) {
	return h.networksIn(ctx, h.cache, ns)
}

// networksIn are the networks tenant ns may use, as r has them: its own and the shared ones.
func (h *handler) networksIn(ctx context.Context, r client.Reader, ns string) ([]computev1.Network, error) {
	var out []computev1.Network
	for _, n := range rules.VisibleNamespaces(ns, h.public) {
		var list computev1.NetworkList
		if err := r.List(ctx, &list, client.InNamespace(n)); err != nil {
			return nil, err
		}
		for _, net := range list.Items {
			if rules.NetworkVisible(&net, ns) {
				out = append(out, net)
			}
		}
	}
	return out, nil
}
