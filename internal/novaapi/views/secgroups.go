package views

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// NovaSecurityGroup is a group as Nova's os-security-groups proxy shows it: its ingress
// rules only (Nova's rules are ingress rules).
type NovaSecurityGroup struct {
	ID          string                  `json:"id"`
	Description string                  `json:"description"`
	Name        string                  `json:"name"`
	TenantID    string                  `json:"tenant_id"`
	Rules       []NovaSecurityGroupRule `json:"rules"`
}

// NovaSecurityGroupRule is one rule as Nova shows it: a remote group, or an IP range.
type NovaSecurityGroupRule struct {
	ID            string         `json:"id"`
	ParentGroupID string         `json:"parent_group_id"`
	IPProtocol    *string        `json:"ip_protocol"`
	FromPort      *int32         `json:"from_port"`
	ToPort        *int32         `json:"to_port"`
	Group         map[string]any `json:"group"`
	IPRange       map[string]any `json:"ip_range"`
}

// NewNovaSecurityGroup lays g out; byName finds the groups its rules name (nil when a rule's
// group is gone: Nova leaves such a rule out).
func NewNovaSecurityGroup(g *computev1.SecurityGroup, byName func(string) *computev1.SecurityGroup) NovaSecurityGroup {
	out := NovaSecurityGroup{ID: string(g.UID), Description: g.Spec.Description, Name: g.DisplayName(),
		TenantID: g.Namespace, Rules: []NovaSecurityGroupRule{}}
	for _, r := range g.Spec.Rules {
		if r.Direction == rules.Egress {
			continue
		}
		nr, ok := NewNovaSecurityGroupRule(g, r, byName)
		if ok {
			out.Rules = append(out.Rules, nr)
		}
	}
	return out
}

// NewNovaSecurityGroupRule lays out one rule of g as Nova converts Neutron's: a protocol
// without ports is all of them (1-65535 for tcp and udp, -1 for icmp).
func NewNovaSecurityGroupRule(g *computev1.SecurityGroup, r computev1.SecurityGroupRule,
	byName func(string) *computev1.SecurityGroup) (NovaSecurityGroupRule, bool) {
	out := NovaSecurityGroupRule{ID: rules.SecurityGroupRuleID(string(g.UID), r), ParentGroupID: string(g.UID),
		Group: map[string]any{}, IPRange: map[string]any{}}
	if r.Protocol != "" {
		p := r.Protocol
		out.IPProtocol = &p
		out.FromPort, out.ToPort = r.PortRangeMin, r.PortRangeMax
		if r.PortRangeMin == nil && r.PortRangeMax == nil {
			lo, hi := int32(-1), int32(-1)
			if p == "tcp" || p == "udp" {
				lo, hi = 1, 65535
			}
			out.FromPort, out.ToPort = &lo, &hi
		}
	}
	switch {
	case r.RemoteGroup != "":
		rg := byName(r.RemoteGroup)
		if rg == nil {
			return out, false
		}
		out.Group = map[string]any{"name": rg.DisplayName(), "tenant_id": rg.Namespace}
	case r.RemoteIPPrefix != "":
		out.IPRange = map[string]any{"cidr": r.RemoteIPPrefix}
	default:
		out.IPRange = map[string]any{"cidr": "0.0.0.0/0"}
	}
	return out, true
}

// NovaFloatingIP is a floating IP as Nova's os-floating-ips proxy shows it.
type NovaFloatingIP struct {
	ID         string  `json:"id"`
	IP         *string `json:"ip"`
	Pool       string  `json:"pool"`
	FixedIP    *string `json:"fixed_ip"`
	InstanceID *string `json:"instance_id"`
}
