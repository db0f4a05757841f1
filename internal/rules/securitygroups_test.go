package rules

import (
	"strings"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func port(p int32) *int32 { return &p }

func TestCheckSecurityGroupRule(t *testing.T) {
	tests := []struct {
		name string
		rule computev1.SecurityGroupRule
		want string // "" for none, else part of the error
	}{
		{"ssh from anywhere", computev1.SecurityGroupRule{Protocol: "tcp", PortRangeMin: port(22), PortRangeMax: port(22), RemoteIPPrefix: "0.0.0.0/0"}, ""},
		{"any protocol", computev1.SecurityGroupRule{Direction: Egress}, ""},
		{"range upside down", computev1.SecurityGroupRule{Protocol: "udp", PortRangeMin: port(90), PortRangeMax: port(80)}, "port_range_min must be <= port_range_max"},
		{"port 0", computev1.SecurityGroupRule{Protocol: "tcp", PortRangeMin: port(0), PortRangeMax: port(10)}, "Invalid value for port 0"},
		{"icmp type too big", computev1.SecurityGroupRule{Protocol: "icmp", PortRangeMin: port(256)}, "It must be 0 to 255"},
		{"icmp code without type", computev1.SecurityGroupRule{Protocol: "icmp", PortRangeMax: port(0)}, "ICMP type (port-range-min) is missing"},
		{"ports need a protocol", computev1.SecurityGroupRule{PortRangeMin: port(1)}, "Must also specify protocol"},
		{"ethertype against prefix", computev1.SecurityGroupRule{Ethertype: IPv4, RemoteIPPrefix: "2001:db8::/32"}, "Conflicting value ethertype IPv4"},
		{"IPv6 prefix", computev1.SecurityGroupRule{Ethertype: IPv6, RemoteIPPrefix: "2001:db8::/32"}, ""},
		{"bad prefix", computev1.SecurityGroupRule{RemoteIPPrefix: "10.0.0.300/8"}, "is not a valid IP subnet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSecurityGroupRule(tt.rule)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSecurityGroupRuleIDs(t *testing.T) {
	ssh := computev1.SecurityGroupRule{Protocol: "tcp", PortRangeMin: port(22), PortRangeMax: port(22)}
	// Defaults spelled out or left to the CRD are one rule.
	spelled := ssh
	spelled.Direction, spelled.Ethertype = Ingress, IPv4
	if SecurityGroupRuleID("g1", ssh) != SecurityGroupRuleID("g1", spelled) {
		t.Fatal("a rule's id depends on whether its defaults are written out")
	}
	if SecurityGroupRuleID("g1", ssh) == SecurityGroupRuleID("g2", ssh) {
		t.Fatal("two groups' rules share an id")
	}
	other := ssh
	other.PortRangeMax = port(23)
	if SecurityGroupRuleID("g1", ssh) == SecurityGroupRuleID("g1", other) {
		t.Fatal("two rules share an id")
	}
	err := CheckSecurityGroupRules("g1", []computev1.SecurityGroupRule{ssh, spelled})
	if e, ok := err.(*RuleExistsError); !ok || e.ID != SecurityGroupRuleID("g1", ssh) {
		t.Fatalf("a rule twice: %v", err)
	}
}

func TestSecurityGroupsNamed(t *testing.T) {
	groups := []computev1.SecurityGroup{{}, {}, {}}
	groups[0].Name, groups[0].UID = "default", "u0"
	groups[1].Name, groups[1].UID, groups[1].Spec.Name = "web-x1", "u1", "web"
	groups[2].Name, groups[2].UID, groups[2].Spec.Name = "web-x2", "u2", "web"
	if got := SecurityGroupsNamed(groups, "default"); len(got) != 1 || got[0].UID != "u0" {
		t.Fatalf("default: %v", got)
	}
	if got := SecurityGroupsNamed(groups, "web"); len(got) != 2 {
		t.Fatalf("two share a name: %v", got)
	}
	if got := SecurityGroupsNamed(groups, "u2"); len(got) != 1 || got[0].Name != "web-x2" {
		t.Fatalf("by id: %v", got)
	}
	if got := SecurityGroupsNamed(groups, "nope"); len(got) != 0 {
		t.Fatalf("nope: %v", got)
	}
	srv := &computev1.Server{}
	if got := ServerSecurityGroups(srv); len(got) != 1 || got[0] != DefaultSecurityGroup {
		t.Fatalf("a server with no list is in the default group: %v", got)
	}
	srv.Spec.SecurityGroups = []string{}
	if got := ServerSecurityGroups(srv); len(got) != 0 {
		t.Fatalf("an empty list is no group: %v", got)
	}
}
