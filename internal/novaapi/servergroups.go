package novaapi

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// Nova's os-server-groups over the tenant's ServerGroup objects. Groups and their members
// are read from the API server (a tenant has few groups: server_groups is 10 by default,
// and a group's members are one LIST with a field selector), so a client sees the group it
// just made and the server it just booted into one. Writes are the caller's
// (impersonated): RBAC and the ServerGroup webhook decide as for kubectl.

// serverGroups are the groups of ns ("" for every tenant) as the API server has them now,
// oldest first (Nova lists them by its database id).
func (h *handler) serverGroups(ctx context.Context, ns string) ([]computev1.ServerGroup, error) {
	var list computev1.ServerGroupList
	if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	slices.SortStableFunc(list.Items, func(a, b computev1.ServerGroup) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return list.Items, nil
}

// serverGroup is the caller's tenant's group with that id; any other (unknown, another
// tenant's) is Nova's 404.
func (h *handler) serverGroup(rq *request, id string) (*computev1.ServerGroup, error) {
	if js.IsUUIDLike(id) {
		groups, err := h.serverGroups(rq.ctx, rq.caller.Tenant)
		if err != nil {
			return nil, err
		}
		for i := range groups {
			if string(groups[i].UID) == js.CanonicalUUID(id) {
				return &groups[i], nil
			}
		}
	}
	return nil, notFound("%s", rules.ServerGroupNotFound(id))
}

// groupMembers are the ids of the servers in g, in the order they were made.
func (h *handler) groupMembers(ctx context.Context, g *computev1.ServerGroup) ([]string, error) {
	srvs, err := refs.ServerGroupMembers(ctx, h.live, g.Namespace, g.Name)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(srvs, func(a, b computev1.Server) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	out := make([]string, 0, len(srvs))
	for i := range srvs {
		out = append(out, string(srvs[i].UID))
	}
	return out, nil
}

func (h *handler) serverGroupView(rq *request, g *computev1.ServerGroup) (views.ServerGroup, error) {
	members, err := h.groupMembers(rq.ctx, g)
	if err != nil {
		return views.ServerGroup{}, err
	}
	return views.NewServerGroup(g, members, rq.version), nil
}

// listServerGroups is GET /os-server-groups: the tenant's groups, or every tenant's with
// all_projects for the cloud operator (Nova's policy index:all_projects is admin only), at
// most limit (CONF.api.max_limit) from offset.
func (h *handler) listServerGroups(rq *request) error {
	if err := validateQuery(schemas.ServerGroupQuery(rq.version), rq.r); err != nil {
		return err
	}
	q := queryObject(rq.r)
	ns := rq.caller.Tenant
	if _, all := q.Get("all_projects"); all {
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if !admin {
			return policyForbidden("os_compute_api:os-server-groups:index:all_projects")
		}
		ns = ""
	}
	groups, err := h.serverGroups(rq.ctx, ns)
	if err != nil {
		return err
	}
	offset, _ := strconv.Atoi(lastValue(q, "offset"))
	groups = groups[min(max(offset, 0), len(groups)):]
	limit, _ := strconv.Atoi(lastValue(q, "limit"))
	if limit <= 0 || limit > maxListLimit {
		limit = maxListLimit // Nova's common.limited: 0 or none is the most
	}
	groups = groups[:min(limit, len(groups))]
	out := make([]views.ServerGroup, 0, len(groups))
	for i := range groups {
		v, err := h.serverGroupView(rq, &groups[i])
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return rq.json(http.StatusOK, map[string]any{"server_groups": out})
}

func (h *handler) showServerGroup(rq *request) error {
	g, err := h.serverGroup(rq, rq.param(0))
	if err != nil {
		return err
	}
	v, err := h.serverGroupView(rq, g)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server_group": v})
}

// serverGroupBody is a create's body, checked against the schema of the microversion.
type serverGroupBody struct {
	Group struct {
		Name     string                     `json:"name"`
		Policies []string                   `json:"policies"`
		Policy   string                     `json:"policy"`
		Rules    map[string]json.RawMessage `json:"rules"`
	} `json:"server_group"`
}

// createServerGroup makes a group with a generated object name (several groups may share
// a Nova name). The webhook records the caller as its user and refuses it past the
// server_groups quota.
func (h *handler) createServerGroup(rq *request) error {
	if _, err := rq.validBody(schemas.ServerGroupCreate(rq.version)); err != nil {
		return err
	}
	var body serverGroupBody
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	spec := computev1.ServerGroupSpec{Name: body.Group.Name, Policy: body.Group.Policy, UserID: rq.userName()}
	if !rq.version.AtLeast(64) {
		spec.Policy = body.Group.Policies[0]
	}
	if raw, ok := body.Group.Rules["max_server_per_host"]; ok {
		if spec.Policy != computev1.ServerGroupAntiAffinity {
			return badRequest("Only anti-affinity policy supports rules.")
		}
		n, err := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 32)
		if err != nil || n < 1 || n > maxServerPerHost {
			return badRequest("Invalid input for field/attribute max_server_per_host. Value: %s. max_server_per_host must be between 1 and %d", raw, maxServerPerHost)
		}
		m := int32(n)
		spec.Rules = &computev1.ServerGroupRules{MaxServerPerHost: &m}
	}
	g := &computev1.ServerGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, GenerateName: objectNamePrefix(spec.Name, "group-")},
		Spec:       spec,
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, g); err != nil {
		if apierrors.IsForbidden(err) && containsText(err, rules.MsgServerGroupQuota) {
			return forbidden(rules.MsgServerGroupQuota)
		}
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server_group": views.NewServerGroup(g, nil, rq.version)})
}

// maxServerPerHost bounds max_server_per_host (the CRD holds it too): Nova takes any
// positive integer, and more members on one host than this is no anti-affinity.
const maxServerPerHost = 1000

// deleteServerGroup answers 204; its members stay, in no group, as in Nova.
func (h *handler) deleteServerGroup(rq *request) error {
	g, err := h.serverGroup(rq, rq.param(0))
	if err != nil {
		return err
	}
	err = deleteExact(rq.ctx, h.writer(rq.ctx), g, "")
	if apierrors.IsNotFound(err) {
		return notFound("%s", rules.ServerGroupNotFound(rq.param(0)))
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}

// bootGroup is the object name of the caller's group a create's scheduler hint "group"
// names ("" for none): Nova's 400 for an unknown one.
func (h *handler) bootGroup(rq *request, body *serverCreate) (string, error) {
	id, ok := hintString(body, "group")
	if !ok {
		return "", nil
	}
	g, err := h.serverGroup(rq, id)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == http.StatusNotFound {
		return "", badRequest("%s", rules.ServerGroupNotFound(id))
	}
	if err != nil {
		return "", err
	}
	return g.Name, nil
}

// serverGroupsOf are the ids of the groups srv is in: its group's, none when it names
// none or its group was deleted.
func (h *handler) serverGroupsOf(ctx context.Context, srv *computev1.Server) ([]string, error) {
	if srv.Spec.ServerGroup == "" {
		return nil, nil
	}
	g := &computev1.ServerGroup{}
	err := h.live.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: srv.Spec.ServerGroup}, g)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []string{string(g.UID)}, nil
}
