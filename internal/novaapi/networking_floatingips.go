package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// Neutron's floatingips over FloatingIP objects: floating_network_id is the pool's network
// id, port_id the port of the server's fixed address it points at (the networking API's
// ports are one per fixed address, with the virtual interface's id).

// floatingIPs are the tenant's floating IPs, as Neutron lists them.
func (nw *networking) floatingIPs(ctx context.Context, caller Caller, _ url.Values) ([]map[string]any, error) {
	fips, err := nw.h.floatingIPs(ctx, caller.Tenant)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(fips))
	for i := range fips {
		v, err := nw.floatingIPView(ctx, &fips[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// floatingIPView lays f out with its pool's id and the port it points at.
func (nw *networking) floatingIPView(ctx context.Context, f *computev1.FloatingIP) (map[string]any, error) {
	netID := f.Status.NetworkName
	n := &computev1.Network{}
	if err := nw.h.cache.Get(ctx, client.ObjectKey{Namespace: f.Status.NetworkNamespace, Name: f.Status.NetworkName}, n); err == nil {
		netID = n.NovaID()
	}
	srv, err := nw.h.associatedServer(ctx, f)
	if err != nil || srv == nil {
		return views.NeutronFloatingIP(f, netID, "", ""), err
	}
	fixed, ok := floatingTarget(f, srv)
	if !ok {
		return views.NeutronFloatingIP(f, netID, "", ""), nil
	}
	for _, a := range srv.Status.Addresses {
		if a.Type != "floating" && a.Address == fixed {
			return views.NeutronFloatingIP(f, netID, portID(srv, a), fixed), nil
		}
	}
	return views.NeutronFloatingIP(f, netID, "", ""), nil
}

// portTarget is the server (as the API server has it) and the fixed address a port id names
// among the tenant's ports.
func (nw *networking) portTarget(ctx context.Context, caller Caller, id string) (*computev1.Server, string, error) {
	ports, err := nw.ports(ctx, caller, url.Values{})
	if err != nil {
		return nil, "", err
	}
	for _, p := range ports {
		if p["id"] != id {
			continue
		}
		srv := &computev1.Server{}
		ok, err := nw.h.byUID(ctx, srv, caller.Tenant, p["device_id"].(string))
		if err != nil {
			return nil, "", err
		}
		if ips, _ := p["fixed_ips"].([]map[string]string); ok && len(ips) > 0 {
			return srv, ips[0]["ip_address"], nil
		}
	}
	return nil, "", &neutronError{code: http.StatusNotFound, typ: "PortNotFound", message: "Port " + id + " could not be found."}
}

// floatingIPInput is a floating IP's create or update body.
type floatingIPInput struct {
	FloatingNetworkID string          `json:"floating_network_id"`
	FloatingIPAddress string          `json:"floating_ip_address"`
	PortID            json.RawMessage `json:"port_id"`
	FixedIPAddress    string          `json:"fixed_ip_address"`
}

func (nw *networking) writeFloatingIP(ctx context.Context, w http.ResponseWriter, caller Caller, method string, segs []string, body []byte) {
	var in floatingIPInput
	if method != http.MethodDelete {
		if err := decodeResource(body, "floatingip", &in); err != nil {
			nw.fail(ctx, w, err)
			return
		}
	}
	if method == http.MethodPost {
		nw.createFloatingIP(ctx, w, caller, in)
		return
	}
	f, err := nw.h.floatingIP(ctx, caller.Tenant, segs[1])
	if err != nil {
		nw.fail(ctx, w, &neutronError{code: http.StatusNotFound, typ: "FloatingIPNotFound", message: "Floating IP " + segs[1] + " could not be found"})
		return
	}
	if method == http.MethodDelete {
		if err := deleteExact(ctx, nw.h.writer(ctx), f, ""); err != nil && !apierrors.IsNotFound(err) {
			nw.fail(ctx, w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	written, err := nw.associate(ctx, caller, f, in)
	if err == nil {
		var v map[string]any
		if v, err = nw.floatingIPView(ctx, written); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"floatingip": v})
			return
		}
	}
	nw.fail(ctx, w, err)
}

// associate points f at the port in (none for a null port_id).
func (nw *networking) associate(ctx context.Context, caller Caller, f *computev1.FloatingIP, in floatingIPInput) (*computev1.FloatingIP, error) {
	server, fixed := "", ""
	if len(in.PortID) > 0 && string(in.PortID) != "null" {
		var id string
		if err := json.Unmarshal(in.PortID, &id); err != nil {
			return nil, invalidInput("'%s' is not a valid UUID", string(in.PortID))
		}
		srv, port, err := nw.portTarget(ctx, caller, id)
		if err != nil {
			return nil, err
		}
		if in.FixedIPAddress != "" && in.FixedIPAddress != port {
			return nil, invalidInput("Port %s does not have fixed ip %s", id, in.FixedIPAddress)
		}
		if err := nw.h.noteFloatingIP(ctx, srv, f.Name); err != nil {
			return nil, err
		}
		server, fixed = srv.Name, port
	}
	return patchFresh(ctx, nw.h.writer(ctx), f, func(f *computev1.FloatingIP) error {
		f.Spec.Server, f.Spec.FixedIP = server, fixed
		return nil
	})
}

func (nw *networking) createFloatingIP(ctx context.Context, w http.ResponseWriter, caller Caller, in floatingIPInput) {
	nets, err := nw.h.visibleNetworks(ctx, caller.Tenant)
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	var pool *computev1.Network
	for i := range nets {
		if nets[i].NovaID() == in.FloatingNetworkID {
			pool = &nets[i]
		}
	}
	switch {
	case pool == nil:
		nw.fail(ctx, w, &neutronError{code: http.StatusNotFound, typ: "NetworkNotFound", message: "Network " + in.FloatingNetworkID + " could not be found."})
		return
	case !pool.Spec.External || pool.Namespace != nw.h.public:
		nw.fail(ctx, w, &neutronError{code: http.StatusBadRequest, typ: "BadRequest",
			message: "Bad floatingip request: Network " + in.FloatingNetworkID + " is not a valid external network."})
		return
	}
	f, fail, err := nw.h.allocateFloatingIP(ctx, caller.Tenant, pool.Name, in.FloatingIPAddress)
	switch {
	case err != nil:
		nw.fail(ctx, w, neutronWriteError(err, "Conflict"))
		return
	case fail != nil && fail.Reason == "NoMoreFloatingIps":
		nw.fail(ctx, w, &neutronError{code: http.StatusConflict, typ: "IpAddressGenerationFailure",
			message: "No more IP addresses available on network " + in.FloatingNetworkID + "."})
		return
	case fail != nil && fail.Reason == "IpAddressAlreadyAllocated":
		nw.fail(ctx, w, &neutronError{code: http.StatusConflict, typ: fail.Reason, message: fail.Message})
		return
	case fail != nil:
		nw.fail(ctx, w, &neutronError{code: http.StatusBadRequest, typ: fail.Reason, message: fail.Message})
		return
	}
	if len(in.PortID) > 0 && string(in.PortID) != "null" {
		if f, err = nw.associate(ctx, caller, f, in); err != nil {
			nw.fail(ctx, w, err)
			return
		}
	}
	v, err := nw.floatingIPView(ctx, f)
	nw.writeJSONOrFail(ctx, w, http.StatusCreated, err, map[string]any{"floatingip": v})
}

// portID is the networking API's id of a server's port for one of its addresses: its
// virtual interface's on the address's network.
func portID(srv *computev1.Server, a computev1.ServerAddress) string {
	return rules.InterfaceID(string(srv.UID), a.NetworkNamespace, a.NetworkName)
}
