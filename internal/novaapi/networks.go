package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// Rackspace Cloud Networks (os-networksv2): the tenant's networks and the shared ones, as
// views.Network. A network made here is a Network object of the tenant's namespace named
// by a new UUID, which is its id (Network.NovaID); kubectl sees and edits the same object,
// and the admission webhook keeps both ways to the same rules (rules.CheckNetworkCIDR at
// create, refs.NetworkUsers at delete).

func (h *handler) listNetworks(rq *request) error {
	nets, err := h.visibleNetworks(rq.ctx, rq.caller.Tenant)
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

// createNetwork answers 200 with the network, as Rackspace (and Nova's os-tenant-networks)
// did; the object exists when it answers, so the next read shows it.
func (h *handler) createNetwork(rq *request) error {
	if _, err := rq.validBody(schemas.NetworkCreate()); err != nil {
		return err
	}
	var body struct {
		Network struct {
			Label string `json:"label"`
			CIDR  string `json:"cidr"`
		} `json:"network"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	in := body.Network
	if err := rules.CheckNetworkCIDR(in.CIDR); err != nil {
		return badRequest("%s", err.Error())
	}
	n := &computev1.Network{
		ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, Name: uuid.NewString()},
		Spec:       computev1.NetworkSpec{Label: in.Label, CIDR: in.CIDR},
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, n); err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"network": views.NewNetwork(n)})
}

// deleteNetwork answers 202, or Nova's 409 while a server uses the network. The admission
// webhook makes the same check when the delete reaches the API server, which also settles
// a server created between this check and the delete.
func (h *handler) deleteNetwork(rq *request) error {
	n, ok, err := h.network(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Network could not be found.")
	}
	users, err := refs.NetworkUsers(rq.ctx, h.live, n, h.public)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return conflict("Network %s is still in use.", n.NovaID())
	}
	if err := deleteExact(rq.ctx, h.writer(rq.ctx), n, ""); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// visibleNetworks are the tenant's networks and the shared ones, as the API server has them
// now (a network made a moment ago is listed; networks are few).
func (h *handler) visibleNetworks(ctx context.Context, ns string) ([]computev1.Network, error) {
	return h.networksIn(ctx, h.live, ns)
}
