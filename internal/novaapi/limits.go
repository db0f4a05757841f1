package novaapi

import (
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /limits: Nova's absolute limits and what the tenant uses. Kova's one quota is on
// instances (quota.go; -1 when unlimited); it enforces none on cores, RAM or keypairs, so
// those maxima are -1 (Nova's "unlimited"), and
// it has no file injection or server groups, so those are 0; metadata is bounded at 128
// items by the CRDs. Usage is counted from the tenant's servers and their flavors.

func (h *handler) showLimits(rq *request) error {
	if err := validateQuery(schemas.LimitsQuery(rq.version), rq.r); err != nil {
		return err
	}
	tenant := rq.caller.Tenant
	if t := lastValue(queryObject(rq.r), "tenant_id"); t != "" && t != tenant {
		admin := false
		if h.admins != nil {
			var err error
			if admin, err = h.admins.IsAdmin(rq.ctx, rq.caller.User); err != nil {
				return err
			}
		}
		if !admin {
			return policyForbidden("os_compute_api:limits:other_project")
		}
		tenant = t
	}
	var servers computev1.ServerList
	if err := h.cache.List(rq.ctx, &servers, client.InNamespace(tenant)); err != nil {
		return err
	}
	var cores, ram int64
	for i := range servers.Items {
		f, err := h.flavor(rq.ctx, serverFlavorID(&servers.Items[i]))
		if err != nil {
			return err
		}
		if f != nil {
			cores += int64(f.Spec.VCPUs)
			ram += f.Spec.RAM
		}
	}
	limits := views.NewLimits(views.LimitsInput{MaxInstances: h.instanceQuota, MaxMetaItems: maxMetaItems,
		Instances: len(servers.Items), Cores: cores, RAM: ram}, rq.version)
	return rq.json(http.StatusOK, map[string]any{"limits": limits})
}
