package novaapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// os-security-group-rules: Nova's rules are ingress rules, from a CIDR with a protocol and
// ports, or from a group's members. A create or a delete is a change of the group's
// spec.rules under its optimistic lock.

// novaRuleBody is POST /os-security-group-rules' rule; the ports and protocol are any JSON,
// as Nova never validated them by schema.
type novaRuleBody struct {
	ParentGroupID string          `json:"parent_group_id"`
	GroupID       *string         `json:"group_id"`
	IPProtocol    json.RawMessage `json:"ip_protocol"`
	FromPort      json.RawMessage `json:"from_port"`
	ToPort        json.RawMessage `json:"to_port"`
	CIDR          json.RawMessage `json:"cidr"`
}

func (h *handler) createSecurityGroupRule(rq *request) error {
	if _, berr := rq.validBody(schemas.SecurityGroupRuleCreate); berr != nil {
		return berr
	}
	var body struct {
		Rule novaRuleBody `json:"security_group_rule"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	in := body.Rule
	parent, groups, err := h.securityGroup(rq.ctx, rq.caller.Tenant, in.ParentGroupID)
	if err != nil {
		return err
	}
	var source *computev1.SecurityGroup
	if in.GroupID != nil {
		for i := range groups {
			if string(groups[i].UID) == js.CanonicalUUID(*in.GroupID) {
				source = &groups[i]
			}
		}
		if source == nil {
			return groupNotFound(*in.GroupID)
		}
	}
	rule, err := novaRule(in, source)
	if err != nil {
		return err
	}
	written, err := patchFresh(rq.ctx, h.writer(rq.ctx), parent, func(g *computev1.SecurityGroup) error {
		if rules.HasSecurityGroupRule(g, rule) {
			return badRequest("This rule already exists in group %s", g.UID)
		}
		if len(g.Spec.Rules) >= rules.MaxSecurityGroupRules {
			return forbidden("Quota exceeded for resources: ['security_group_rule'].")
		}
		g.Spec.Rules = append(g.Spec.Rules, rule)
		return nil
	})
	if apierrors.IsNotFound(err) {
		return groupNotFound(string(parent.UID))
	}
	if err != nil {
		return securityGroupWriteError(err)
	}
	view, _ := views.NewNovaSecurityGroupRule(written, rule, groupsByName(groups))
	return rq.json(http.StatusOK, map[string]any{"security_group_rule": view})
}

// novaRule builds a rule as Nova's security-group API does (_new_ingress_rule), with its
// words for what it refuses.
func novaRule(in novaRuleBody, source *computev1.SecurityGroup) (computev1.SecurityGroupRule, error) {
	r := computev1.SecurityGroupRule{Direction: rules.Ingress, Ethertype: rules.IPv4}
	proto, hasProto := jsonText(in.IPProtocol)
	from, to := jsonValue(in.FromPort), jsonValue(in.ToPort)
	upper := strings.ToUpper(proto)
	if source != nil {
		r.RemoteGroup = source.Name
		// A group rule opens everything its protocol has when it names no ports.
		if from == nil && to == nil {
			switch upper {
			case "ICMP":
				from, to = "-1", "-1"
			case "TCP", "UDP":
				from, to = "1", "65535"
			}
		}
	} else {
		cidr, _ := jsonText(in.CIDR)
		if cidr == "" {
			cidr = "0.0.0.0/0"
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return r, badRequest("%s is not a valid IP network.", cidr)
		}
		if !p.Addr().IsUnspecified() && p.Bits() == 0 {
			return r, badRequest("Bad prefix for network in cidr %s", cidr)
		}
		r.RemoteIPPrefix = cidr
		if p.Addr().Is6() {
			r.Ethertype = rules.IPv6
		}
	}
	if !hasProto || proto == "" || from == nil || to == nil {
		if source == nil {
			return r, badRequest("Not enough parameters to build a valid rule.")
		}
		return r, nil
	}
	lo, err1 := strconv.Atoi(fmt.Sprint(from))
	hi, err2 := strconv.Atoi(fmt.Sprint(to))
	if err1 != nil || err2 != nil {
		if upper == "ICMP" {
			return r, badRequest("Invalid input received: Type and Code must be integers for ICMP protocol type")
		}
		return r, badRequest("Invalid input received: To and From ports must be integers")
	}
	switch upper {
	case "TCP", "UDP":
		if lo > hi {
			return r, badRequest("Invalid port range %d:%d. Former value cannot be greater than the later", lo, hi)
		}
		if lo < 1 || hi > 65535 {
			return r, badRequest("Invalid port range %d:%d. Valid %s ports should be between 1-65535", lo, hi, upper)
		}
	case "ICMP":
		if lo < -1 || lo > 255 || hi < -1 || hi > 255 {
			return r, badRequest("Invalid port range %d:%d. For ICMP, the type:code must be valid", lo, hi)
		}
	default:
		return r, badRequest("Invalid IP protocol %s.", proto)
	}
	r.Protocol = strings.ToLower(proto)
	// -1 is "all" in Nova, no bound in Neutron.
	if lo != -1 {
		v := int32(lo)
		r.PortRangeMin = &v
	}
	if hi != -1 {
		v := int32(hi)
		r.PortRangeMax = &v
	}
	return r, nil
}

// jsonText is a JSON string or number as text; false for absent or null.
func jsonText(raw json.RawMessage) (string, bool) {
	v := jsonValue(raw)
	if v == nil {
		return "", false
	}
	return fmt.Sprint(v), true
}

// jsonValue is a JSON scalar as Python's str() would print it, nil for absent or null.
func jsonValue(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return string(raw)
}

func (h *handler) deleteSecurityGroupRule(rq *request) error {
	id := rq.param(0)
	if !js.IsUUIDLike(id) {
		return badRequest("Security group id should be uuid")
	}
	id = js.CanonicalUUID(id)
	groups, err := h.securityGroups(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return err
	}
	for i := range groups {
		g := &groups[i]
		for _, r := range g.Spec.Rules {
			if rules.SecurityGroupRuleID(string(g.UID), r) != id {
				continue
			}
			_, err := patchFresh(rq.ctx, h.writer(rq.ctx), g, func(g *computev1.SecurityGroup) error {
				kept := g.Spec.Rules[:0:0]
				for _, r := range g.Spec.Rules {
					if rules.SecurityGroupRuleID(string(g.UID), r) != id {
						kept = append(kept, r)
					}
				}
				if len(kept) == len(g.Spec.Rules) {
					return notFound("Security group rule %s does not exist", id)
				}
				g.Spec.Rules = kept
				return nil
			})
			if apierrors.IsNotFound(err) {
				return notFound("Security group rule %s does not exist", id)
			}
			if err != nil {
				return securityGroupWriteError(err)
			}
			return rq.json(http.StatusAccepted, nil)
		}
	}
	return notFound("Security group rule %s does not exist", id)
}
