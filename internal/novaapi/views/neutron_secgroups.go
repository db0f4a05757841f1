package views

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// NeutronSecurityGroup is a group as Neutron shows it, with every rule (egress too);
// byName finds a rule's remote group by object name.
func NeutronSecurityGroup(g *computev1.SecurityGroup, byName func(string) *computev1.SecurityGroup) map[string]any {
	created := neutronTime(g.CreationTimestamp.Time)
	rs := []map[string]any{}
	for _, r := range g.Spec.Rules {
		rs = append(rs, NeutronSecurityGroupRule(g, r, byName))
	}
	return map[string]any{
		"id":                   string(g.UID),
		"name":                 g.DisplayName(),
		"description":          g.Spec.Description,
		"stateful":             true,
		"shared":               false,
		"tenant_id":            g.Namespace,
		"project_id":           g.Namespace,
		"security_group_rules": rs,
		"tags":                 []string{},
		"created_at":           created,
		"updated_at":           created,
		"revision_number":      g.Generation,
	}
}

// NeutronSecurityGroupRule is one rule of g as Neutron shows it.
func NeutronSecurityGroupRule(g *computev1.SecurityGroup, r computev1.SecurityGroupRule, byName func(string) *computev1.SecurityGroup) map[string]any {
	created := neutronTime(g.CreationTimestamp.Time)
	var protocol, prefix, remote any
	if r.Protocol != "" {
		protocol = r.Protocol
	}
	if r.RemoteIPPrefix != "" {
		prefix = r.RemoteIPPrefix
	}
	if r.RemoteGroup != "" {
		if rg := byName(r.RemoteGroup); rg != nil {
			remote = string(rg.UID)
		}
	}
	port := func(p *int32) any {
		if p == nil {
			return nil
		}
		return *p
	}
	direction, ethertype := r.Direction, r.Ethertype
	if direction == "" {
		direction = rules.Ingress
	}
	if ethertype == "" {
		ethertype = rules.IPv4
	}
	return map[string]any{
		"id":                      rules.SecurityGroupRuleID(string(g.UID), r),
		"tenant_id":               g.Namespace,
		"project_id":              g.Namespace,
		"security_group_id":       string(g.UID),
		"direction":               direction,
		"ethertype":               ethertype,
		"protocol":                protocol,
		"port_range_min":          port(r.PortRangeMin),
		"port_range_max":          port(r.PortRangeMax),
		"remote_ip_prefix":        prefix,
		"remote_group_id":         remote,
		"remote_address_group_id": nil,
		"normalized_cidr":         prefix,
		"description":             "",
		"belongs_to_default_sg":   g.Name == rules.DefaultSecurityGroup,
		"created_at":              created,
		"updated_at":              created,
		"revision_number":         0,
	}
}

// NeutronFloatingIP is a floating IP as Neutron shows it: networkID is its pool's id, and
// portID and fixedIP its association ("" for none).
func NeutronFloatingIP(f *computev1.FloatingIP, networkID, portID, fixedIP string) map[string]any {
	created := neutronTime(f.CreationTimestamp.Time)
	var port, fixed any
	status := "DOWN"
	if portID != "" {
		port, fixed, status = portID, fixedIP, "ACTIVE"
	}
	return map[string]any{
		"id":                  string(f.UID),
		"tenant_id":           f.Namespace,
		"project_id":          f.Namespace,
		"floating_ip_address": f.Status.Address,
		"floating_network_id": networkID,
		"router_id":           nil,
		"port_id":             port,
		"fixed_ip_address":    fixed,
		"status":              status,
		"description":         "",
		"tags":                []string{},
		"port_forwardings":    []any{},
		"qos_policy_id":       nil,
		"created_at":          created,
		"updated_at":          created,
		"revision_number":     f.Generation,
	}
}
