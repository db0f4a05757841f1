package novaapi

import (
	"context"
	"net/http"

	"github.com/kova-dev/kova/internal/quota"
)

// showQuota is GET /v2.0/quotas/{project}, which the openstack CLI's `quota show` reads next
// to the compute quotas: the quotas the webhooks enforce on what the networking service
// makes (the tenant's security groups, their rules and floating IPs: its Quota's, shown by
// os-quota-sets up to 2.35 too), -1 for what it does not bound here (networks are made
// through os-networksv2, each bounded by its CIDR). A tenant sees its own.
func (nw *networking) showQuota(ctx context.Context, w http.ResponseWriter, caller Caller, project string) {
	if project != caller.Tenant {
		WriteNeutronError(w, http.StatusForbidden, "", "Policy doesn't allow get_quota to be performed.")
		return
	}
	limits, err := nw.h.quotaLimits(ctx, nw.h.live, project)
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota": map[string]any{
		"network": -1, "subnet": -1, "port": -1, "router": 0, "rbac_policy": 0, "subnetpool": -1,
		"floatingip": limits[quota.FloatingIPs], "security_group": limits[quota.SecurityGroups],
		"security_group_rule": limits[quota.SecurityGroupRules],
	}})
}
