package novaapi

import (
	"net/http"

	"github.com/kova-dev/kova/internal/rules"
)

// showQuota is GET /v2.0/quotas/{project}, which the openstack CLI's `quota show` reads next
// to the compute quotas: the bounds Kova keeps on what the networking service makes (the
// tenant's groups, rules per group and floating IPs, Neutron's defaults), -1 for what it does
// not bound here (networks are made through os-networksv2, each bounded by its CIDR). A
// tenant sees its own.
func (nw *networking) showQuota(w http.ResponseWriter, caller Caller, project string) {
	if project != caller.Tenant {
		WriteNeutronError(w, http.StatusForbidden, "", "Policy doesn't allow get_quota to be performed.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota": map[string]any{
		"network": -1, "subnet": -1, "port": -1, "router": 0, "rbac_policy": 0, "subnetpool": -1,
		"floatingip": rules.MaxFloatingIPs, "security_group": rules.MaxSecurityGroups,
		"security_group_rule": rules.MaxSecurityGroupRules,
	}})
}
