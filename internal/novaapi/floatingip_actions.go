package novaapi

import (
	"net/http"
	"net/netip"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// addFloatingIp and removeFloatingIp (up to 2.43) set and clear the FloatingIP's
// spec.server and spec.fixedIP, as the caller: the association is desired state of the
// floating IP, as Neutron's floatingip.port_id is. The server views show the address at
// once (floating addresses are merged into a server's addresses as it is shown).

func actionText(arg any, key string) string {
	if m, ok := arg.(*js.Object); ok {
		if v, ok := m.Get(key); ok {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

func (h *handler) addFloatingIP(rq *request, srv *computev1.Server, arg any) error {
	address, fixed := actionText(arg, "address"), actionText(arg, "fixed_address")
	var fixedIPs []string
	for _, a := range srv.Status.Addresses {
		if a.Type != "floating" {
			fixedIPs = append(fixedIPs, a.Address)
		}
	}
	if len(fixedIPs) == 0 {
		return badRequest("Instance network is not ready yet")
	}
	if fixed != "" {
		found := false
		for _, a := range fixedIPs {
			found = found || a == fixed
		}
		if !found {
			return badRequest("Specified fixed address not assigned to instance")
		}
	} else {
		for _, a := range fixedIPs {
			if ip, err := netip.ParseAddr(a); err == nil && ip.Is4() {
				fixed = a
				break
			}
		}
		if fixed == "" {
			return badRequest("Unable to associate floating IP %s to any fixed IPs for instance %s. "+
				"Instance has no fixed IPv4 addresses to associate.", address, srv.UID)
		}
	}
	f, err := h.floatingIPByAddress(rq.ctx, rq.caller.Tenant, address)
	if err != nil {
		return err
	}
	if f == nil {
		return notFound("floating IP not found")
	}
	if err := h.noteFloatingIP(rq.ctx, srv, f.Name); err != nil {
		return err
	}
	_, err = patchFresh(rq.ctx, h.writer(rq.ctx), f, func(f *computev1.FloatingIP) error {
		f.Spec.Server, f.Spec.FixedIP = srv.Name, fixed
		return nil
	})
	if apierrors.IsNotFound(err) {
		return notFound("floating IP not found")
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) removeFloatingIP(rq *request, srv *computev1.Server, arg any) error {
	address := actionText(arg, "address")
	f, err := h.floatingIPByAddress(rq.ctx, rq.caller.Tenant, address)
	if err != nil {
		return err
	}
	if f == nil {
		return notFound("Floating IP not found for address %s.", address)
	}
	notAssociated := conflict("Floating IP %s is not associated with instance %s.", address, srv.UID)
	if f.Spec.Server != srv.Name {
		return notAssociated
	}
	_, err = patchFresh(rq.ctx, h.writer(rq.ctx), f, func(f *computev1.FloatingIP) error {
		if f.Spec.Server != srv.Name {
			return notAssociated
		}
		f.Spec.Server, f.Spec.FixedIP = "", ""
		return nil
	})
	if apierrors.IsNotFound(err) {
		return notFound("Floating IP not found for address %s.", address)
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// containsText says whether err's text holds s.
func containsText(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
