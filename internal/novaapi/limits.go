package novaapi

import (
	"net/http"

	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /limits: Nova's absolute limits (the tenant's quotas, quota.go) and what the tenant
// uses, counted from its servers and their flavors.

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
	limits, err := h.quotaLimits(rq.ctx, h.cache, tenant)
	if err != nil {
		return err
	}
	used, err := h.quotaUsage(rq.ctx, h.cache, tenant)
	if err != nil {
		return err
	}
	groups, err := h.serverGroups(rq.ctx, tenant)
	if err != nil {
		return err
	}
	view := views.NewLimits(limits, used, rq.version)
	view.Absolute.TotalServerGroupsUsed = len(groups)
	return rq.json(http.StatusOK, map[string]any{"limits": view})
}
