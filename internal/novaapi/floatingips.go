package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// Nova's floating-IP proxy (os-floating-ips, up to 2.35) over the tenant's FloatingIP
// objects. The manager allocates the address (controllers/floatingip_controller.go, the
// same allocator as fixed addresses); an allocation answers once it has, as Nova answers
// with the address, and one the pool cannot give is deleted again before the answer, so no
// half-made object stays. Floating IPs are read from the API server: what a client has
// just written shows.

// floatingWait bounds how long an allocation waits for the manager.
const floatingWait = time.Minute

// floatingIPs are the tenant's floating IPs that hold an address, as the API server has them.
func (h *handler) floatingIPs(ctx context.Context, ns string) ([]computev1.FloatingIP, error) {
	var list computev1.FloatingIPList
	if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := list.Items[:0]
	for _, f := range list.Items {
		if floatingInUse(&f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// floatingInUse says whether Nova's APIs show f: it holds an address and is not being
// released.
func floatingInUse(f *computev1.FloatingIP) bool {
	return f.Status.Address != "" && f.DeletionTimestamp.IsZero()
}

// floatingIPView is f as Nova shows it; servers are the tenant's, by name.
func floatingIPView(f *computev1.FloatingIP, server *computev1.Server) views.NovaFloatingIP {
	out := views.NovaFloatingIP{ID: string(f.UID), Pool: f.Spec.Pool}
	if f.Status.Address != "" {
		ip := f.Status.Address
		out.IP = &ip
	}
	if server != nil {
		if fixed, ok := floatingTarget(f, server); ok {
			id := string(server.UID)
			out.InstanceID, out.FixedIP = &id, &fixed
		}
	}
	return out
}

// floatingTarget is the fixed address f points at on srv: the one its spec names, else the
// server's first IPv4 fixed address; false when the server has none of them.
func floatingTarget(f *computev1.FloatingIP, srv *computev1.Server) (string, bool) {
	if f.Spec.Server == "" || f.Spec.Server != srv.Name {
		return "", false
	}
	for _, a := range srv.Status.Addresses {
		if a.Type == "floating" {
			continue
		}
		if f.Spec.FixedIP != "" && a.Address == f.Spec.FixedIP {
			return a.Address, true
		}
		if ip, err := netip.ParseAddr(a.Address); f.Spec.FixedIP == "" && err == nil && ip.Is4() {
			return a.Address, true
		}
	}
	if f.Spec.FixedIP != "" {
		return f.Spec.FixedIP, true
	}
	return "", false
}

// associatedServer is the server f points at, read past the cache; nil for none.
func (h *handler) associatedServer(ctx context.Context, f *computev1.FloatingIP) (*computev1.Server, error) {
	if f.Spec.Server == "" {
		return nil, nil
	}
	srv := &computev1.Server{}
	err := h.live.Get(ctx, client.ObjectKey{Namespace: f.Namespace, Name: f.Spec.Server}, srv)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return srv, err
}

func (h *handler) listFloatingIPs(rq *request) error {
	fips, err := h.floatingIPs(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return err
	}
	out := make([]views.NovaFloatingIP, 0, len(fips))
	for i := range fips {
		srv, err := h.associatedServer(rq.ctx, &fips[i])
		if err != nil {
			return err
		}
		out = append(out, floatingIPView(&fips[i], srv))
	}
	return rq.json(http.StatusOK, map[string]any{"floating_ips": out})
}

// floatingIP is the tenant's floating IP with that id.
func (h *handler) floatingIP(ctx context.Context, ns, id string) (*computev1.FloatingIP, error) {
	fips, err := h.floatingIPs(ctx, ns)
	if err != nil {
		return nil, err
	}
	canon := js.CanonicalUUID(id)
	for i := range fips {
		if string(fips[i].UID) == canon {
			return &fips[i], nil
		}
	}
	return nil, notFound("Floating IP not found for ID %s", id)
}

// floatingIPByAddress is the tenant's floating IP with that address, or nil.
func (h *handler) floatingIPByAddress(ctx context.Context, ns, address string) (*computev1.FloatingIP, error) {
	fips, err := h.floatingIPs(ctx, ns)
	if err != nil {
		return nil, err
	}
	for i := range fips {
		if fips[i].Status.Address == address {
			return &fips[i], nil
		}
	}
	return nil, nil
}

func (h *handler) showFloatingIP(rq *request) error {
	f, err := h.floatingIP(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	srv, err := h.associatedServer(rq.ctx, f)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"floating_ip": floatingIPView(f, srv)})
}

// createFloatingIP allocates an address from a pool (Kova's default: the public network).
func (h *handler) createFloatingIP(rq *request) error {
	if _, berr := rq.validBody(schemas.FloatingIPCreate); berr != nil {
		return berr
	}
	var body struct {
		Pool *string `json:"pool"`
	}
	if rq.hasBody {
		if err := json.Unmarshal(rq.body, &body); err != nil {
			return badRequest(msgMalformed)
		}
	}
	pool, named := rules.DefaultFloatingIPPool, false
	if body.Pool != nil && *body.Pool != "" {
		pool, named = *body.Pool, true
	}
	if _, err := refs.FloatingIPPool(rq.ctx, h.live, h.public, pool); refs.IsNotFound(err) {
		return notFound("Floating IP pool not found.")
	} else if err != nil {
		return err
	}
	f, fail, err := h.allocateFloatingIP(rq.ctx, rq.caller.Tenant, pool, "")
	switch {
	case isFloatingIPQuota(err) && named:
		return forbidden("IP allocation over quota in pool %s.", pool)
	case isFloatingIPQuota(err):
		return forbidden("IP allocation over quota.")
	case err != nil:
		return err
	case fail == nil:
		return rq.json(http.StatusOK, map[string]any{"floating_ip": floatingIPView(f, nil)})
	case fail.Reason == "NoMoreFloatingIps":
		return notFound("No more floating IPs in pool %s.", pool)
	case fail.Reason == "FloatingIpPoolNotFound":
		return notFound("Floating IP pool not found.")
	}
	return badRequest("%s", fail.Message)
}

// allocateFloatingIP makes a FloatingIP as the caller and waits for the manager to give it
// an address. One the manager could not give an address is deleted again (by the shim: the
// caller may not be allowed to delete), and its failure returned.
func (h *handler) allocateFloatingIP(ctx context.Context, ns, pool, address string) (*computev1.FloatingIP, *computev1.FloatingIPFailure, error) {
	f := &computev1.FloatingIP{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "fip-"},
		Spec:       computev1.FloatingIPSpec{Pool: pool, Address: address},
	}
	if err := h.writer(ctx).Create(ctx, f); err != nil {
		return nil, nil, err
	}
	done, err := h.awaitFloatingIP(ctx, f)
	if err == nil && done.Status.Address != "" {
		return done, nil, nil
	}
	if derr := deleteExact(context.WithoutCancel(ctx), h.client, f, ""); derr != nil && !apierrors.IsNotFound(derr) {
		return nil, nil, derr
	}
	if err != nil {
		return nil, nil, err
	}
	if done.Status.Failure == nil {
		return nil, nil, newError(http.StatusServiceUnavailable, "The floating IP was not allocated in time; try again.")
	}
	return nil, done.Status.Failure, nil
}

// isFloatingIPQuota says whether err is the webhook's refusal past a tenant's bound.
func isFloatingIPQuota(err error) bool {
	return apierrors.IsForbidden(err) && containsText(err, msgFloatingIPQuota)
}

// msgFloatingIPQuota is the webhook's word for the bound, by which the shim tells it apart.
const msgFloatingIPQuota = "Quota exceeded for resources: ['floatingip']"

// awaitFloatingIP waits until the manager has decided f: an address or a failure.
func (h *handler) awaitFloatingIP(ctx context.Context, f *computev1.FloatingIP) (*computev1.FloatingIP, error) {
	ctx, cancel := context.WithTimeout(ctx, floatingWait)
	defer cancel()
	tick := time.NewTicker(devicePoll)
	defer tick.Stop()
	cur := f
	for {
		next := &computev1.FloatingIP{}
		err := h.live.Get(ctx, client.ObjectKeyFromObject(f), next)
		switch {
		case apierrors.IsNotFound(err):
			return cur, nil
		case err == nil && next.UID == f.UID:
			cur = next
			if next.Status.Address != "" || next.Status.Failure != nil {
				return next, nil
			}
		}
		select {
		case <-ctx.Done():
			return cur, nil
		case <-tick.C:
		}
	}
}

// deleteFloatingIP releases the address (the manager frees it once the object is gone).
func (h *handler) deleteFloatingIP(rq *request) error {
	f, err := h.floatingIP(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	err = deleteExact(rq.ctx, h.writer(rq.ctx), f, "")
	if apierrors.IsNotFound(err) {
		return notFound("Floating IP not found for ID %s", rq.param(0))
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}
