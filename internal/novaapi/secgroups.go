package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// Nova's security-group proxy (os-security-groups, os-security-group-rules, up to 2.35)
// over the tenant's SecurityGroup objects. Groups are read from the API server (they are
// few, and what a client just wrote must show), after the tenant's default group is made
// if it is not there yet, as Neutron makes it on a project's first touch. Writes are the
// caller's (impersonated), so RBAC and the SecurityGroup webhook decide as for kubectl.

// securityGroups are the tenant's groups as the API server has them now.
func (h *handler) securityGroups(ctx context.Context, ns string) ([]computev1.SecurityGroup, error) {
	if err := h.ensureDefaultGroup(ctx, ns); err != nil {
		return nil, err
	}
	var list computev1.SecurityGroupList
	if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// ensureDefaultGroup makes the tenant's default group if it is missing. The shim makes it
// as itself: every role of a tenant touches it (Neutron makes it for a reader too).
func (h *handler) ensureDefaultGroup(ctx context.Context, ns string) error {
	err := h.live.Get(ctx, client.ObjectKey{Namespace: ns, Name: rules.DefaultSecurityGroup}, &computev1.SecurityGroup{})
	if !apierrors.IsNotFound(err) {
		return err
	}
	err = h.client.Create(ctx, rules.NewDefaultSecurityGroup(ns))
	if apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) {
		return nil // made meanwhile; or the tenant has no namespace (it then has no groups)
	}
	return err
}

// cachedDefaultGroup says whether the cache has the tenant's default group.
func (h *handler) cachedDefaultGroup(ctx context.Context, ns string) bool {
	return h.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: rules.DefaultSecurityGroup}, &computev1.SecurityGroup{}) == nil
}

// groupsByName finds a rule's remote group among groups by metadata.name.
func groupsByName(groups []computev1.SecurityGroup) func(string) *computev1.SecurityGroup {
	return func(name string) *computev1.SecurityGroup {
		for i := range groups {
			if groups[i].Name == name {
				return &groups[i]
			}
		}
		return nil
	}
}

// securityGroup is the tenant's group with that id: Nova's 400 for an id that is not a
// UUID, 404 for an unknown one.
func (h *handler) securityGroup(ctx context.Context, ns, id string) (*computev1.SecurityGroup, []computev1.SecurityGroup, error) {
	if !js.IsUUIDLike(id) {
		return nil, nil, badRequest("Security group id should be uuid")
	}
	groups, err := h.securityGroups(ctx, ns)
	if err != nil {
		return nil, nil, err
	}
	id = js.CanonicalUUID(id)
	for i := range groups {
		if string(groups[i].UID) == id {
			return &groups[i], groups, nil
		}
	}
	return nil, nil, groupNotFound(id)
}

func (h *handler) listSecurityGroups(rq *request) error {
	groups, err := h.securityGroups(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return err
	}
	out := make([]views.NovaSecurityGroup, 0, len(groups))
	for i := range groups {
		out = append(out, views.NewNovaSecurityGroup(&groups[i], groupsByName(groups)))
	}
	q := rq.r.URL.Query()
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		out = out[min(off, len(out)):]
	}
	limit := maxListLimit
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l >= 0 {
		limit = min(l, maxListLimit)
	}
	out = out[:min(limit, len(out))]
	slices.SortStableFunc(out, func(a, b views.NovaSecurityGroup) int {
		return strings.Compare(a.TenantID+"\x00"+a.Name, b.TenantID+"\x00"+b.Name)
	})
	return rq.json(http.StatusOK, map[string]any{"security_groups": out})
}

func (h *handler) showSecurityGroup(rq *request) error {
	g, groups, err := h.securityGroup(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"security_group": views.NewNovaSecurityGroup(g, groupsByName(groups))})
}

// securityGroupBody is a create's or update's name and description.
func (rq *request) securityGroupBody() (name, description string, err error) {
	if _, berr := rq.validBody(schemas.SecurityGroupCreate); berr != nil {
		return "", "", berr
	}
	var body struct {
		Group struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"security_group"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return "", "", badRequest(msgMalformed)
	}
	return body.Group.Name, body.Group.Description, nil
}

// createSecurityGroup makes a group with Neutron's rules for a new one (all egress). Its
// object name is made from its name where it can be, so kubectl shows it.
func (h *handler) createSecurityGroup(rq *request) error {
	name, description, err := rq.securityGroupBody()
	if err != nil {
		return err
	}
	if err := h.ensureDefaultGroup(rq.ctx, rq.caller.Tenant); err != nil {
		return err
	}
	g := &computev1.SecurityGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, GenerateName: objectNamePrefix(name, "sg-")},
		Spec:       computev1.SecurityGroupSpec{Name: name, Description: description, Rules: rules.EgressRules()},
	}
	if name == rules.DefaultSecurityGroup {
		// Neutron keeps "default" for the one it makes (its 409, Nova's 403).
		return forbidden("Default security group already exists.")
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, g); err != nil {
		return securityGroupWriteError(err)
	}
	return rq.json(http.StatusOK, map[string]any{"security_group": views.NewNovaSecurityGroup(g, func(string) *computev1.SecurityGroup { return nil })})
}

// securityGroupWriteError is a refused write as Nova's proxy answers it: Neutron's quota
// (409 there) is Nova's 403 SecurityGroupLimitExceeded, other refusals its 400.
func securityGroupWriteError(err error) error {
	switch {
	case apierrors.IsForbidden(err) && containsText(err, msgSecurityGroupQuota):
		return forbidden("Quota exceeded for resources: ['security_group'].")
	case apierrors.IsForbidden(err) && containsText(err, msgSecurityGroupRuleQuota):
		return forbidden("Quota exceeded for resources: ['security_group_rule'].")
	case apierrors.IsInvalid(err) || apierrors.IsConflict(err) && !isOptimisticConflict(err):
		return badRequest("%s", asAPIError(err).message)
	}
	return err
}

// The webhook's words for the bounds, by which the shim tells them from other refusals.
const (
	msgSecurityGroupQuota     = "Quota exceeded for resources: ['security_group']"
	msgSecurityGroupRuleQuota = "Quota exceeded for resources: ['security_group_rule']"
)

// objectNamePrefix is a generateName prefix from a display name: its DNS-label part, or
// fallback.
func objectNamePrefix(name, fallback string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	p := strings.Trim(b.String(), "-")
	if p == "" {
		return fallback
	}
	return p + "-"
}

func (h *handler) updateSecurityGroup(rq *request) error {
	g, groups, err := h.securityGroup(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	name, description, err := rq.securityGroupBody()
	if err != nil {
		return err
	}
	written, err := patchFresh(rq.ctx, h.writer(rq.ctx), g, func(g *computev1.SecurityGroup) error {
		g.Spec.Name, g.Spec.Description = name, description
		return nil
	})
	if apierrors.IsNotFound(err) {
		return groupNotFound(string(g.UID))
	}
	if err != nil {
		return securityGroupWriteError(err)
	}
	return rq.json(http.StatusOK, map[string]any{"security_group": views.NewNovaSecurityGroup(written, groupsByName(groups))})
}

// deleteSecurityGroup answers 202; a group in use is Neutron's 409, which Nova's proxy turns
// into its 400. The webhook makes the check where the delete lands.
func (h *handler) deleteSecurityGroup(rq *request) error {
	g, _, err := h.securityGroup(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	err = deleteExact(rq.ctx, h.writer(rq.ctx), g, "")
	switch {
	case apierrors.IsNotFound(err):
		return groupNotFound(string(g.UID))
	case apierrors.IsConflict(err):
		return badRequest("%s", asAPIError(err).message)
	case err != nil:
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// groupNotFound is Neutron's 404 for a group, which Nova's proxy passes on.
func groupNotFound(id string) *apiError { return notFound("Security group %s does not exist", id) }
