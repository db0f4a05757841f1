package novaapi

import (
	"net/http"
	"slices"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// A server's security groups are Server.spec.securityGroups, names of the tenant's groups:
// desired state, so a manifest in Git holds them. addSecurityGroup and removeSecurityGroup
// change that list (as the caller, so RBAC and the webhook decide as for kubectl), and
// answer once it is written: there is no backend step to wait for.

// listServerSecurityGroups is GET /servers/{id}/os-security-groups (at every version).
func (h *handler) listServerSecurityGroups(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	groups, err := h.securityGroups(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return err
	}
	out := []views.NovaSecurityGroup{}
	for _, name := range rules.ServerSecurityGroups(srv) {
		for _, g := range rules.SecurityGroupsNamed(groups, name) {
			out = append(out, views.NewNovaSecurityGroup(g, groupsByName(groups)))
		}
	}
	slices.SortStableFunc(out, func(a, b views.NovaSecurityGroup) int { return strings.Compare(a.Name, b.Name) })
	return rq.json(http.StatusOK, map[string]any{"security_groups": out})
}

// oneSecurityGroup is the group a name or id means, with the errors of Nova's proxy: 404
// for none, 409 (Neutron client's NoUniqueMatch) for more than one.
func (h *handler) oneSecurityGroup(rq *request, nameOrID string) (*computev1.SecurityGroup, error) {
	groups, err := h.securityGroups(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return nil, err
	}
	return oneSecurityGroupIn(groups, nameOrID, rq.caller.Tenant)
}

// oneSecurityGroupIn is oneSecurityGroup among groups.
func oneSecurityGroupIn(groups []computev1.SecurityGroup, nameOrID, tenant string) (*computev1.SecurityGroup, error) {
	found := rules.SecurityGroupsNamed(groups, nameOrID)
	switch len(found) {
	case 0:
		return nil, notFound("Security group %s is not found for project %s", nameOrID, tenant)
	case 1:
		return found[0], nil
	}
	return nil, conflict("Multiple security_group matches found for name '%s', use an ID to be more specific.", nameOrID)
}

// actionSecurityGroup is the group an addSecurityGroup or removeSecurityGroup names, after
// Nova's check that the name is not blank.
func (h *handler) actionSecurityGroup(rq *request, arg any) (string, *computev1.SecurityGroup, error) {
	name := actionText(arg, "name")
	if strings.TrimSpace(name) == "" {
		return "", nil, badRequest("Security group name cannot be empty")
	}
	g, err := h.oneSecurityGroup(rq, name)
	return name, g, err
}

// addSecurityGroup puts the server in a group. A group it is in already changes nothing
// (Neutron keeps a port's groups as a set), which Nova answers with 202 as well.
func (h *handler) addSecurityGroup(rq *request, srv *computev1.Server, arg any) error {
	_, g, err := h.actionSecurityGroup(rq, arg)
	if err != nil {
		return err
	}
	if len(srv.Spec.Networks) == 0 {
		return notFound("instance_id %s could not be found as device id on any ports", srv.UID)
	}
	_, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		if have := rules.ServerSecurityGroups(s); !slices.Contains(have, g.DisplayName()) {
			s.Spec.SecurityGroups = append(slices.Clone(have), g.DisplayName())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// removeSecurityGroup takes the server out of a group: Nova's 404 when it is not in it.
func (h *handler) removeSecurityGroup(rq *request, srv *computev1.Server, arg any) error {
	name, g, err := h.actionSecurityGroup(rq, arg)
	if err != nil {
		return err
	}
	notIn := notFound("Security group %s not associated with the instance %s", name, srv.UID)
	if !slices.Contains(rules.ServerSecurityGroups(srv), g.DisplayName()) {
		return notIn
	}
	_, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		have := rules.ServerSecurityGroups(s)
		i := slices.Index(have, g.DisplayName())
		if i < 0 {
			return notIn
		}
		s.Spec.SecurityGroups = slices.Delete(slices.Clone(have), i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// createSecurityGroups are the names of the groups a create asks for (Nova's default:
// the tenant's default group), each resolved as addSecurityGroup resolves it, against the
// groups the admission webhook resolves them against (refs.SecurityGroupsFor); Nova
// answers a missing one with 400 at create.
func (h *handler) createSecurityGroups(rq *request, asked []string) ([]string, error) {
	if len(asked) == 0 {
		asked = []string{rules.DefaultSecurityGroup}
	}
	// The default group is made on the tenant's first use; once the cache has it, it is
	// there (the webhook counts it as there in any case).
	if !h.cachedDefaultGroup(rq.ctx, rq.caller.Tenant) {
		if err := h.ensureDefaultGroup(rq.ctx, rq.caller.Tenant); err != nil {
			return nil, err
		}
	}
	groups, err := refs.SecurityGroupsFor(rq.ctx, h.cache, h.live, rq.caller.Tenant, asked)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range asked {
		g, err := oneSecurityGroupIn(groups, name, rq.caller.Tenant)
		if e, ok := err.(*apiError); ok && e.code == http.StatusNotFound {
			return nil, badRequest("Security group %s not found.", name)
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, g.DisplayName()) {
			out = append(out, g.DisplayName())
		}
	}
	return out, nil
}
