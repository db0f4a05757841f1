package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// Virtual interfaces (Rackspace's os-virtual-interfacesv2) are the entries of
// Server.spec.networks: a create adds one, a delete takes one away, and the controller
// attaches or detaches it through the driver. Like Nova's os-interface (and Rackspace's
// API, which answers with the new address), a create and a delete answer once the backend
// has done it, so what a client reads next (the interface list, addresses, ips) shows it;
// a failure takes the spec change back and answers with Nova's error.

// deviceWait bounds how long a create or delete waits for the backend.
const deviceWait = time.Minute

// devicePoll is how often the wait looks at the cached server.
const devicePoll = 50 * time.Millisecond

func (h *handler) listVirtualInterfaces(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	out := []views.VirtualInterface{}
	for _, att := range srv.Spec.Networks {
		vif, ok, err := h.virtualInterface(rq.ctx, srv, att.Name)
		if err != nil {
			return err
		}
		if ok && !containsVIF(out, vif.ID) {
			out = append(out, vif)
		}
	}
	return rq.json(http.StatusOK, map[string]any{"virtual_interfaces": out})
}

func containsVIF(vifs []views.VirtualInterface, id string) bool {
	for _, v := range vifs {
		if v.ID == id {
			return true
		}
	}
	return false
}

// virtualInterface is the interface of srv on the network its spec names: the network as
// a build resolves it, and the addresses status records on it.
func (h *handler) virtualInterface(ctx context.Context, srv *computev1.Server, name string) (views.VirtualInterface, bool, error) {
	net, err := refs.Network(ctx, h.cache, srv.Namespace, h.public, name)
	if refs.IsNotFound(err) {
		return views.VirtualInterface{}, false, nil
	}
	if err != nil {
		return views.VirtualInterface{}, false, err
	}
	uid := string(srv.UID)
	vif := views.VirtualInterface{ID: rules.InterfaceID(uid, net.Namespace, net.Name), MACAddress: rules.MAC(uid, net.Name),
		IPAddresses: []views.IPAddress{}}
	netID := views.NewNetwork(net).ID
	for _, a := range srv.Status.Addresses {
		if a.Type != "floating" && a.NetworkName == net.Name && a.NetworkNamespace == net.Namespace {
			vif.IPAddresses = append(vif.IPAddresses, views.IPAddress{Address: a.Address, NetworkID: netID, NetworkLabel: a.Network})
		}
	}
	return vif, true, nil
}

func (h *handler) createVirtualInterface(rq *request) error {
	if _, berr := rq.validBody(schemas.VirtualInterfaceCreate); berr != nil {
		return berr
	}
	var body struct {
		VIF struct {
			NetworkID string `json:"network_id"`
		} `json:"virtual_interface"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	netID := body.VIF.NetworkID
	net, ok, err := h.network(rq.ctx, rq.caller.Tenant, netID)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Network %s could not be found.", netID)
	}
	written, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		if err := rq.checkDevice(lifecycle.ActionAttachInterface, s); err != nil {
			return err
		}
		for _, n := range s.Spec.Networks {
			if n.Name == net.Name {
				return badRequest("Server %s already has a virtual interface on network %s.", s.UID, netID)
			}
		}
		s.Spec.Networks = append(s.Spec.Networks, computev1.NetworkAttachment{Name: net.Name})
		return nil
	})
	if err != nil {
		return err
	}
	done, err := h.awaitDevice(rq.ctx, written, func(s *computev1.Server) bool {
		vif, ok, _ := h.virtualInterface(rq.ctx, s, net.Name)
		return ok && len(vif.IPAddresses) > 0
	}, lifecycle.ActionAttachInterface, net.Name)
	if err != nil {
		if f, failed := err.(*deviceFailure); failed {
			h.undoAttachInterface(rq, written, net.Name)
			return f.apiError(written)
		}
		return err
	}
	vif, _, err := h.virtualInterface(rq.ctx, done, net.Name)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"virtual_interfaces": []views.VirtualInterface{vif}})
}

// undoAttachInterface takes back an attach the backend could not make: no half-made
// interface stays in spec to be tried again.
func (h *handler) undoAttachInterface(rq *request, srv *computev1.Server, name string) {
	_, _ = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		kept := s.Spec.Networks[:0:0]
		for _, n := range s.Spec.Networks {
			if n.Name != name {
				kept = append(kept, n)
			}
		}
		s.Spec.Networks = kept
		return nil
	})
}

func (h *handler) deleteVirtualInterface(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	id := rq.param(1)
	var removed *computev1.NetworkAttachment
	for _, att := range srv.Spec.Networks {
		vif, ok, err := h.virtualInterface(rq.ctx, srv, att.Name)
		if err != nil {
			return err
		}
		if ok && vif.ID == id {
			removed = &att
			break
		}
	}
	if removed == nil {
		return notFound("Virtual interface %s could not be found.", id)
	}
	written, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		if err := rq.checkDevice(lifecycle.ActionDetachInterface, s); err != nil {
			return err
		}
		kept := s.Spec.Networks[:0:0]
		for _, n := range s.Spec.Networks {
			if n.Name != removed.Name {
				kept = append(kept, n)
			}
		}
		s.Spec.Networks = kept
		return nil
	})
	if err != nil {
		return err
	}
	_, err = h.awaitDevice(rq.ctx, written, func(s *computev1.Server) bool {
		for _, a := range s.Status.Addresses {
			if a.Type != "floating" && a.NetworkName == removed.Name {
				return false
			}
		}
		return true
	}, lifecycle.ActionDetachInterface, removed.Name)
	if f, failed := err.(*deviceFailure); failed {
		// The interface is still there: spec says so again.
		_, _ = h.patchServer(rq.ctx, written, func(s *computev1.Server) error {
			s.Spec.Networks = append(s.Spec.Networks, *removed)
			return nil
		})
		return f.apiError(written)
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, nil)
}

// checkDevice is the lifecycle's guard of an attach or detach on the server as it is now.
func (rq *request) checkDevice(a lifecycle.Action, srv *computev1.Server) error {
	st, err := rq.h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	return rq.check(a, srv, st)
}

// deviceFailure is an attach or detach the backend refused or failed.
type deviceFailure struct{ f computev1.ServerDeviceFailure }

func (d *deviceFailure) Error() string { return d.f.Message }

// apiError is the failure as Nova answers it.
func (d *deviceFailure) apiError(srv *computev1.Server) *apiError {
	switch d.f.Reason {
	case "NoMoreFixedIps", "InvalidFixedIp":
		return badRequest("%s", d.f.Message)
	case "FixedIpAlreadyInUse":
		return conflict("%s", d.f.Message)
	case "NetworkNotFound", "VolumeNotFound":
		return notFound("%s", d.f.Message)
	case "VolumeInUse", "InvalidDevicePath":
		return badRequest("%s", d.f.Message)
	case "DevicePathInUse":
		return conflict("%s", d.f.Message)
	}
	switch lifecycle.Action(d.f.Action) {
	case lifecycle.ActionAttachInterface:
		return newError(http.StatusInternalServerError, "Failed to attach network adapter device to %s", srv.UID)
	case lifecycle.ActionDetachInterface:
		return badRequest("Failed to detach network adapter device from %s", srv.UID)
	}
	return newError(http.StatusInternalServerError, "%s", d.f.Message)
}

// awaitDevice waits until the server, as the cache has it, shows done, or shows that the
// change of device failed for the generation written (a *deviceFailure), or deviceWait
// passes (then it answers with the server as it is).
func (h *handler) awaitDevice(ctx context.Context, written *computev1.Server, done func(*computev1.Server) bool,
	a lifecycle.Action, device string) (*computev1.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, deviceWait)
	defer cancel()
	tick := time.NewTicker(devicePoll)
	defer tick.Stop()
	last := written
	for {
		cur := &computev1.Server{}
		err := h.cache.Get(ctx, client.ObjectKeyFromObject(written), cur)
		switch {
		case err != nil && client.IgnoreNotFound(err) == nil:
			return nil, notFound("Instance %s could not be found.", written.UID)
		case err == nil && cur.UID == written.UID && cur.Generation >= written.Generation:
			last = cur
			if f := cur.Status.DeviceFailure; f != nil && f.Generation >= written.Generation &&
				f.Device == device && f.Action == string(a) {
				return cur, &deviceFailure{*f}
			}
			if done(cur) {
				return cur, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, nil
		case <-tick.C:
		}
	}
}
