package novaapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// The networking service's security groups, rules and floating IPs (Neutron v2.0) over the
// same SecurityGroup and FloatingIP objects as Nova's proxies: the openstack CLI's
// `security group ...`, `floating ip create` and `server add floating ip` go here when the
// network service is in its catalog. Writes are the caller's (impersonated), so RBAC and the
// webhooks decide as for kubectl; reads come from the API server.

// serveWrite reads a bounded body and hands a POST, PUT or DELETE to its collection.
func (nw *networking) serveWrite(ctx context.Context, w http.ResponseWriter, r *http.Request, caller Caller, col neutronCollection, segs []string) {
	if nw.h.clientFor != nil {
		c, err := nw.h.clientFor(caller.User)
		if err != nil {
			nw.fail(ctx, w, err)
			return
		}
		ctx = context.WithValue(ctx, writerKey{}, c)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, nw.h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteNeutronError(w, http.StatusRequestEntityTooLarge, "", "Request body too large.")
			return
		}
		WriteNeutronError(w, http.StatusBadRequest, "", "Malformed request body")
		return
	}
	switch {
	case r.Method == http.MethodPost && len(segs) == 1,
		(r.Method == http.MethodPut || r.Method == http.MethodDelete) && len(segs) == 2:
		col.write(ctx, w, caller, r.Method, segs, body)
	default:
		WriteNeutronError(w, http.StatusMethodNotAllowed, "", "The method is not allowed on this resource.")
	}
}

// decodeResource reads body's one resource, {"<key>": {...}}, into v.
func decodeResource(body []byte, key string, v any) *neutronError {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(body, &outer); err != nil {
		return &neutronError{code: http.StatusBadRequest, typ: "HTTPBadRequest", message: "Malformed request body"}
	}
	raw, ok := outer[key]
	if !ok || len(outer) != 1 {
		return &neutronError{code: http.StatusBadRequest, typ: "HTTPBadRequest", message: "Resource body required"}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return invalidInput("%s", err.Error())
	}
	return nil
}

// neutronWriteError is a refused write in Neutron's words.
func neutronWriteError(err error, conflictType string) error {
	switch {
	case apierrors.IsConflict(err) && !isOptimisticConflict(err):
		return &neutronError{code: http.StatusConflict, typ: conflictType, message: asAPIError(err).message}
	case apierrors.IsForbidden(err) && containsText(err, msgSecurityGroupQuota):
		return &neutronError{code: http.StatusConflict, typ: "OverQuota", message: msgSecurityGroupQuota + "."}
	case apierrors.IsForbidden(err) && containsText(err, msgSecurityGroupRuleQuota):
		return &neutronError{code: http.StatusConflict, typ: "OverQuota", message: msgSecurityGroupRuleQuota + "."}
	case apierrors.IsForbidden(err) && containsText(err, msgFloatingIPQuota):
		return &neutronError{code: http.StatusConflict, typ: "OverQuota", message: msgFloatingIPQuota + "."}
	case apierrors.IsInvalid(err):
		return invalidInput("%s", asAPIError(err).message)
	}
	return err
}

func (nw *networking) writeJSONOrFail(ctx context.Context, w http.ResponseWriter, code int, err error, body any) {
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	if body == nil {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, body)
}

// securityGroups are the tenant's groups, as Neutron lists them.
func (nw *networking) securityGroups(ctx context.Context, caller Caller, _ url.Values) ([]map[string]any, error) {
	groups, err := nw.h.securityGroups(ctx, caller.Tenant)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(groups))
	for i := range groups {
		out = append(out, views.NeutronSecurityGroup(&groups[i], groupsByName(groups)))
	}
	return out, nil
}

// securityGroupRules are every rule of the tenant's groups.
func (nw *networking) securityGroupRules(ctx context.Context, caller Caller, _ url.Values) ([]map[string]any, error) {
	groups, err := nw.h.securityGroups(ctx, caller.Tenant)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for i := range groups {
		for _, r := range groups[i].Spec.Rules {
			out = append(out, views.NeutronSecurityGroupRule(&groups[i], r, groupsByName(groups)))
		}
	}
	return out, nil
}

// groupByID is the tenant's group with that id, or Neutron's 404.
func (nw *networking) groupByID(ctx context.Context, ns, id string) (*computev1.SecurityGroup, []computev1.SecurityGroup, error) {
	groups, err := nw.h.securityGroups(ctx, ns)
	if err != nil {
		return nil, nil, err
	}
	for i := range groups {
		if string(groups[i].UID) == id {
			return &groups[i], groups, nil
		}
	}
	return nil, nil, &neutronError{code: http.StatusNotFound, typ: "SecurityGroupNotFound", message: "Security group " + id + " does not exist"}
}

func (nw *networking) writeSecurityGroup(ctx context.Context, w http.ResponseWriter, caller Caller, method string, segs []string, body []byte) {
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if method != http.MethodDelete {
		if err := decodeResource(body, "security_group", &in); err != nil {
			nw.fail(ctx, w, err)
			return
		}
		for _, v := range []*string{in.Name, in.Description} {
			if v != nil && len(*v) > 255 {
				nw.fail(ctx, w, invalidInput("'%s' exceeds maximum length of 255", *v))
				return
			}
		}
	}
	h := nw.h
	if method == http.MethodPost {
		if err := h.ensureDefaultGroup(ctx, caller.Tenant); err != nil {
			nw.fail(ctx, w, err)
			return
		}
		g := &computev1.SecurityGroup{Spec: computev1.SecurityGroupSpec{Rules: rules.EgressRules()}}
		g.Namespace = caller.Tenant
		if in.Name != nil {
			g.Spec.Name = *in.Name
		}
		if in.Description != nil {
			g.Spec.Description = *in.Description
		}
		if g.Spec.Name == rules.DefaultSecurityGroup {
			nw.fail(ctx, w, &neutronError{code: http.StatusConflict, typ: "SecurityGroupDefaultAlreadyExists", message: "Default security group already exists."})
			return
		}
		g.GenerateName = objectNamePrefix(g.Spec.Name, "sg-")
		err := h.writer(ctx).Create(ctx, g)
		if err != nil {
			err = neutronWriteError(err, "Conflict")
		}
		nw.writeJSONOrFail(ctx, w, http.StatusCreated, err, map[string]any{"security_group": views.NeutronSecurityGroup(g, func(string) *computev1.SecurityGroup { return nil })})
		return
	}
	g, groups, err := nw.groupByID(ctx, caller.Tenant, segs[1])
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	if method == http.MethodDelete {
		err := deleteExact(ctx, h.writer(ctx), g, "")
		if err != nil && !apierrors.IsNotFound(err) {
			nw.fail(ctx, w, neutronWriteError(err, "SecurityGroupInUse"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	written, err := patchFresh(ctx, h.writer(ctx), g, func(g *computev1.SecurityGroup) error {
		if in.Name != nil {
			g.Spec.Name = *in.Name
		}
		if in.Description != nil {
			g.Spec.Description = *in.Description
		}
		return nil
	})
	if err != nil {
		nw.fail(ctx, w, neutronWriteError(err, "SecurityGroupInUse"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"security_group": views.NeutronSecurityGroup(written, groupsByName(groups))})
}

// neutronProtocols are the protocols Kova's rules take, by Neutron's names and numbers.
var neutronProtocols = map[string]string{"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp", "any": ""}

func (nw *networking) writeSecurityGroupRule(ctx context.Context, w http.ResponseWriter, caller Caller, method string, segs []string, body []byte) {
	h := nw.h
	if method == http.MethodPut {
		WriteNeutronError(w, http.StatusBadRequest, "", "Security group rules cannot be updated.")
		return
	}
	if method == http.MethodDelete {
		nw.deleteSecurityGroupRule(ctx, w, caller, segs[1])
		return
	}
	var in struct {
		SecurityGroupID string  `json:"security_group_id"`
		Direction       string  `json:"direction"`
		Ethertype       string  `json:"ethertype"`
		Protocol        any     `json:"protocol"`
		PortRangeMin    *int32  `json:"port_range_min"`
		PortRangeMax    *int32  `json:"port_range_max"`
		RemoteIPPrefix  *string `json:"remote_ip_prefix"`
		RemoteGroupID   *string `json:"remote_group_id"`
	}
	if err := decodeResource(body, "security_group_rule", &in); err != nil {
		nw.fail(ctx, w, err)
		return
	}
	if in.Direction != rules.Ingress && in.Direction != rules.Egress {
		nw.fail(ctx, w, invalidInput("%s is not in valid_values", strconv.Quote(in.Direction)))
		return
	}
	r := computev1.SecurityGroupRule{Direction: in.Direction, Ethertype: orDefault(in.Ethertype, rules.IPv4),
		PortRangeMin: in.PortRangeMin, PortRangeMax: in.PortRangeMax}
	if r.Ethertype != rules.IPv4 && r.Ethertype != rules.IPv6 {
		nw.fail(ctx, w, invalidInput("%s is not in valid_values", strconv.Quote(r.Ethertype)))
		return
	}
	if in.Protocol != nil {
		p, ok := neutronProtocols[strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(jsonString(in.Protocol), "\""), "\""))]
		if !ok {
			nw.fail(ctx, w, &neutronError{code: http.StatusBadRequest, typ: "SecurityGroupRuleInvalidProtocol",
				message: "Security group rule protocol " + jsonString(in.Protocol) + " not supported. Only protocol values [None, tcp, udp, icmp] are supported."})
			return
		}
		r.Protocol = p
	}
	if in.RemoteIPPrefix != nil {
		r.RemoteIPPrefix = *in.RemoteIPPrefix
	}
	g, groups, err := nw.groupByID(ctx, caller.Tenant, in.SecurityGroupID)
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	if in.RemoteGroupID != nil && *in.RemoteGroupID != "" {
		if r.RemoteIPPrefix != "" {
			nw.fail(ctx, w, &neutronError{code: http.StatusBadRequest, typ: "SecurityGroupRemoteGroupAndRemoteIpPrefix",
				message: "Only remote_ip_prefix or remote_group_id may be provided."})
			return
		}
		rg, _, err := nw.groupByID(ctx, caller.Tenant, *in.RemoteGroupID)
		if err != nil {
			nw.fail(ctx, w, err)
			return
		}
		r.RemoteGroup = rg.Name
	}
	if err := rules.CheckSecurityGroupRule(r); err != nil {
		nw.fail(ctx, w, &neutronError{code: http.StatusBadRequest, typ: "SecurityGroupRuleParameterConflict", message: err.Error()})
		return
	}
	written, err := patchFresh(ctx, h.writer(ctx), g, func(g *computev1.SecurityGroup) error {
		if rules.HasSecurityGroupRule(g, r) {
			id := rules.SecurityGroupRuleID(string(g.UID), r)
			return &neutronError{code: http.StatusConflict, typ: "SecurityGroupRuleExists", message: (&rules.RuleExistsError{ID: id}).Error()}
		}
		if len(g.Spec.Rules) >= rules.MaxSecurityGroupRules {
			return &neutronError{code: http.StatusConflict, typ: "OverQuota", message: msgSecurityGroupRuleQuota + "."}
		}
		g.Spec.Rules = append(g.Spec.Rules, r)
		return nil
	})
	if err != nil {
		nw.fail(ctx, w, neutronWriteError(err, "Conflict"))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"security_group_rule": views.NeutronSecurityGroupRule(written, r, groupsByName(groups))})
}

// jsonString is a decoded JSON scalar as text.
func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (nw *networking) deleteSecurityGroupRule(ctx context.Context, w http.ResponseWriter, caller Caller, id string) {
	groups, err := nw.h.securityGroups(ctx, caller.Tenant)
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	for i := range groups {
		for _, r := range groups[i].Spec.Rules {
			if rules.SecurityGroupRuleID(string(groups[i].UID), r) != id {
				continue
			}
			_, err := patchFresh(ctx, nw.h.writer(ctx), &groups[i], func(g *computev1.SecurityGroup) error {
				g.Spec.Rules = slices.DeleteFunc(slices.Clone(g.Spec.Rules), func(r computev1.SecurityGroupRule) bool {
					return rules.SecurityGroupRuleID(string(g.UID), r) == id
				})
				return nil
			})
			nw.writeJSONOrFail(ctx, w, http.StatusNoContent, neutronWriteErrorOrNil(err), nil)
			return
		}
	}
	WriteNeutronError(w, http.StatusNotFound, "SecurityGroupRuleNotFound", "Security group rule "+id+" does not exist")
}

func neutronWriteErrorOrNil(err error) error {
	if err == nil {
		return nil
	}
	return neutronWriteError(err, "Conflict")
}
