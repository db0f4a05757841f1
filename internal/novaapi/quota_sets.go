package novaapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/quota"
)

// os-quota-sets: a tenant's quotas (its Quota over the QuotaClass "default" over Nova's
// defaults), shown to the tenant and the cloud operator, changed and reverted to the
// defaults by the cloud operator only, as Nova's policy has it. A tenant's kova-admin is
// the account's administrator, not Nova's admin: it gets Nova's 403 policy body. The write
// goes through the caller's own client, so RBAC (quotas in compute.kova.dev, which only
// kova-cloud-admin may write) decides too, as it does for kubectl.

// quotaSetOrder are the quotas in the order of Nova's update schema, the order in which
// it names the first bad one.
var quotaSetOrder = []string{quota.Instances, quota.Cores, quota.RAM, quota.FloatingIPs, quota.FixedIPs,
	quota.MetadataItems, quota.KeyPairs, quota.SecurityGroups, quota.SecurityGroupRules, quota.InjectedFiles,
	quota.InjectedFileContentBytes, quota.InjectedFilePathBytes, quota.ServerGroups, quota.ServerGroupMembers}

// quotaSetNames are the quotas shown at v: the network proxies' go at 2.36, the injected
// files' at 2.57.
func quotaSetNames(v microversion.Version) []string { return visibleQuotas(v, 36, 0) }

// visibleQuotas are the quotas shown at v: the network proxies' until networkGoes, the
// server groups' from groupsCome, the injected files' until 2.57.
func visibleQuotas(v microversion.Version, networkGoes, groupsCome int) []string {
	var out []string
	for _, n := range quotaSetOrder {
		switch n {
		case quota.FloatingIPs, quota.FixedIPs, quota.SecurityGroups, quota.SecurityGroupRules:
			if v.AtLeast(networkGoes) {
				continue
			}
		case quota.ServerGroups, quota.ServerGroupMembers:
			if !v.AtLeast(groupsCome) {
				continue
			}
		case quota.InjectedFiles, quota.InjectedFileContentBytes, quota.InjectedFilePathBytes:
			if v.AtLeast(57) {
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

// setQuotas sets in spec the quotas a body names: integers or strings of them, which the
// schema has checked (force is not a quota, and quota.Set ignores it).
func setQuotas(spec *computev1.QuotaLimits, set map[string]json.RawMessage) {
	for name, raw := range set {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			quota.Set(spec, name, &v)
		}
	}
}

// quotaSetTenant is the tenant a request names, which the caller may see: its own, or any
// for the cloud operator (rule is the policy Nova names in its 403).
func (h *handler) quotaSetTenant(rq *request, rule string) (string, error) {
	if err := validateQuery(schemas.QuotaSetQuery(rq.version), rq.r); err != nil {
		return "", err
	}
	tenant := rq.param(0)
	if tenant == rq.caller.Tenant {
		return tenant, nil
	}
	admin, err := rq.isAdmin()
	if err != nil {
		return "", err
	}
	if !admin {
		return "", policyForbidden(rule)
	}
	return tenant, nil
}

func (h *handler) showQuotaSet(rq *request) error {
	tenant, err := h.quotaSetTenant(rq, "os_compute_api:os-quota-sets:show")
	if err != nil {
		return err
	}
	limits, err := h.quotaLimits(rq.ctx, h.live, tenant)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"quota_set": quotaSetView(limits, tenant, rq.version)})
}

func (h *handler) showQuotaSetDetail(rq *request) error {
	tenant, err := h.quotaSetTenant(rq, "os_compute_api:os-quota-sets:detail")
	if err != nil {
		return err
	}
	limits, err := h.quotaLimits(rq.ctx, h.live, tenant)
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
	// server_group_members is a bound per group: Nova shows no use of it either.
	inUse := map[string]int64{quota.Instances: used.Instances, quota.Cores: used.Cores, quota.RAM: used.RAM,
		quota.ServerGroups: int64(len(groups))}
	out := map[string]any{"id": tenant}
	for _, n := range quotaSetNames(rq.version) {
		out[n] = map[string]int64{"limit": limits[n], "in_use": inUse[n], "reserved": 0}
	}
	return rq.json(http.StatusOK, map[string]any{"quota_set": out})
}

// showQuotaSetDefaults are the defaults every tenant starts from: the QuotaClass
// "default" over Nova's own. Nova lets anyone read them.
func (h *handler) showQuotaSetDefaults(rq *request) error {
	if err := validateQuery(schemas.QuotaSetQuery(rq.version), rq.r); err != nil {
		return err
	}
	class, err := quota.Class(rq.ctx, h.live)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"quota_set": quotaSetView(quota.Effective(class, nil), rq.param(0), rq.version)})
}

func (h *handler) updateQuotaSet(rq *request) error {
	if _, err := h.operatorQuotaSet(rq, "os_compute_api:os-quota-sets:update"); err != nil {
		return err
	}
	names := quotaSetNames(rq.version)
	if _, err := rq.validBody(schemas.QuotaSetUpdate(rq.version, names)); err != nil {
		return err
	}
	var body struct {
		QuotaSet map[string]json.RawMessage `json:"quota_set"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	tenant := rq.param(0)
	err := h.writeQuota(rq, tenant, func(spec *computev1.QuotaLimits) { setQuotas(spec, body.QuotaSet) })
	if err != nil {
		return err
	}
	limits, err := h.quotaLimits(rq.ctx, h.live, tenant)
	if err != nil {
		return err
	}
	view := quotaSetView(limits, tenant, rq.version)
	delete(view, "id") // Nova's update answers without it
	return rq.json(http.StatusOK, map[string]any{"quota_set": view})
}

// deleteQuotaSet takes the tenant back to the defaults.
func (h *handler) deleteQuotaSet(rq *request) error {
	if _, err := h.operatorQuotaSet(rq, "os_compute_api:os-quota-sets:delete"); err != nil {
		return err
	}
	err := h.writeQuota(rq, rq.param(0), func(spec *computev1.QuotaLimits) { *spec = computev1.QuotaLimits{} })
	if err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

// operatorQuotaSet refuses anyone but the cloud operator, with Nova's policy body.
func (h *handler) operatorQuotaSet(rq *request, rule string) (string, error) {
	if err := validateQuery(schemas.QuotaSetQuery(rq.version), rq.r); err != nil {
		return "", err
	}
	return rq.param(0), rq.adminOnly(rule)
}

// writeQuota changes the spec of the tenant's Quota as the caller, making the Quota when
// the tenant has none; a conflict with the quota's count (which writes its status) or
// another writer is read again and retried.
func (h *handler) writeQuota(rq *request, tenant string, edit func(*computev1.QuotaLimits)) error {
	w := h.writer(rq.ctx)
	for range 10 {
		q := &computev1.Quota{}
		err := h.live.Get(rq.ctx, client.ObjectKey{Namespace: tenant, Name: computev1.QuotaName}, q)
		switch {
		case apierrors.IsNotFound(err):
			q.Namespace, q.Name = tenant, computev1.QuotaName
			edit(&q.Spec)
			err = w.Create(rq.ctx, q)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if apierrors.IsNotFound(err) {
				return notFound("Project %s could not be found.", tenant)
			}
			return err
		case err != nil:
			return err
		}
		edit(&q.Spec)
		err = w.Update(rq.ctx, q)
		if apierrors.IsConflict(err) {
			continue
		}
		return err
	}
	return newError(http.StatusConflict, "The quota of %s is being changed by others; try again.", tenant)
}

// quotaSetView is a quota_set: id and the quotas shown at v.
func quotaSetView(l quota.Limits, tenant string, v microversion.Version) map[string]any {
	out := map[string]any{"id": tenant}
	for _, n := range quotaSetNames(v) {
		out[n] = l[n]
	}
	return out
}
