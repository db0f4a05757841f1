package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/uuid"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Security groups, one rule for the shim, the webhook and the controller alike.

// DefaultSecurityGroup is the group every tenant has, by metadata.name and by name; a
// server that names no group is in it, as in Nova.
const DefaultSecurityGroup = "default"

// MaxSecurityGroupRules bounds one group's rules (the size of one object; the CRD holds it
// too). How many groups and rules a tenant has is its quota's (internal/quota).
const MaxSecurityGroupRules = 100

// OverQuotaMessage is Neutron's OverQuota message for one resource (its name in Neutron's
// quotas: security_group, security_group_rule, floatingip).
func OverQuotaMessage(resource string) string {
	return "Quota exceeded for resources: ['" + resource + "']"
}

// Directions and ethertypes as Neutron spells them.
const (
	Ingress = "ingress"
	Egress  = "egress"
	IPv4    = "IPv4"
	IPv6    = "IPv6"
)

// ruleSpace is the UUID namespace of rule ids (a fixed random UUID).
var ruleSpace = uuid.MustParse("0d6a3f57-92a4-4c39-b1f3-5a3b8e2e61d4")

// SecurityGroupRuleID is a rule's id: derived from its group's uid and what it says, so
// that the shim, kubectl's view and a restart agree with no record of it. A rule never
// changes (in Neutron too: a change is a delete and a create), and a group never holds the
// same rule twice (CheckSecurityGroupRules), so the id is one rule's.
func SecurityGroupRuleID(groupUID string, r computev1.SecurityGroupRule) string {
	return uuid.NewSHA1(ruleSpace, []byte(groupUID+"/"+ruleKey(r))).String()
}

func ruleKey(r computev1.SecurityGroupRule) string {
	port := func(p *int32) string {
		if p == nil {
			return "*"
		}
		return strconv.Itoa(int(*p))
	}
	return strings.Join([]string{orDefault(r.Direction, Ingress), orDefault(r.Ethertype, IPv4), r.Protocol,
		port(r.PortRangeMin), port(r.PortRangeMax), r.RemoteIPPrefix, r.RemoteGroup}, "|")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// EgressRules are the rules Neutron gives every new group: all traffic out, IPv4 and IPv6.
func EgressRules() []computev1.SecurityGroupRule {
	return []computev1.SecurityGroupRule{{Direction: Egress, Ethertype: IPv4}, {Direction: Egress, Ethertype: IPv6}}
}

// DefaultSecurityGroupRules are those of a tenant's default group, as Neutron makes it:
// everything out, and in from the group's own members.
func DefaultSecurityGroupRules() []computev1.SecurityGroupRule {
	return append(EgressRules(),
		computev1.SecurityGroupRule{Direction: Ingress, Ethertype: IPv4, RemoteGroup: DefaultSecurityGroup},
		computev1.SecurityGroupRule{Direction: Ingress, Ethertype: IPv6, RemoteGroup: DefaultSecurityGroup})
}

// NewDefaultSecurityGroup is the default group of namespace ns.
func NewDefaultSecurityGroup(ns string) *computev1.SecurityGroup {
	g := &computev1.SecurityGroup{}
	g.Namespace, g.Name = ns, DefaultSecurityGroup
	g.Spec = computev1.SecurityGroupSpec{Name: DefaultSecurityGroup, Description: "Default security group",
		Rules: DefaultSecurityGroupRules()}
	return g
}

// CheckSecurityGroupRule says what is wrong with a rule, in Neutron's words: ports that do
// not fit the protocol, a range upside down, a prefix of the other ethertype.
func CheckSecurityGroupRule(r computev1.SecurityGroupRule) error {
	lo, hi := r.PortRangeMin, r.PortRangeMax
	switch r.Protocol {
	case "tcp", "udp":
		if lo != nil && hi != nil && *lo > *hi {
			return fmt.Errorf("For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
		for _, p := range []*int32{lo, hi} {
			if p != nil && (*p < 1 || *p > 65535) {
				return fmt.Errorf("Invalid value for port %d", *p)
			}
		}
	case "icmp":
		if lo != nil && *lo > 255 {
			return fmt.Errorf("Invalid value for ICMP field (type) port_range_min: %d. It must be 0 to 255.", *lo)
		}
		if hi != nil && *hi > 255 {
			return fmt.Errorf("Invalid value for ICMP field (code) port_range_max: %d. It must be 0 to 255.", *hi)
		}
		if hi != nil && lo == nil {
			return fmt.Errorf("ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *hi)
		}
	case "":
		if lo != nil || hi != nil {
			return fmt.Errorf("Must also specify protocol if port range is given.")
		}
	default:
		return fmt.Errorf("Security group rule protocol %s not supported. Only protocol values [None, tcp, udp, icmp] and integer representations [0 to 255] are supported.", r.Protocol)
	}
	if r.RemoteIPPrefix != "" {
		p, err := netip.ParsePrefix(r.RemoteIPPrefix)
		if err != nil {
			return fmt.Errorf("'%s' is not a valid IP subnet.", r.RemoteIPPrefix)
		}
		if want := orDefault(r.Ethertype, IPv4); (want == IPv4) != p.Addr().Is4() {
			return fmt.Errorf("Conflicting value ethertype %s for CIDR %s", want, r.RemoteIPPrefix)
		}
	}
	return nil
}

// CheckSecurityGroupRules checks each rule and that none is there twice (Neutron's
// SecurityGroupRuleExists, a 409).
func CheckSecurityGroupRules(groupUID string, rs []computev1.SecurityGroupRule) error {
	seen := map[string]bool{}
	for _, r := range rs {
		if err := CheckSecurityGroupRule(r); err != nil {
			return err
		}
		k := ruleKey(r)
		if seen[k] {
			return &RuleExistsError{ID: SecurityGroupRuleID(groupUID, r)}
		}
		seen[k] = true
	}
	return nil
}

// HasSecurityGroupRule says whether g holds r already (under the id r would have).
func HasSecurityGroupRule(g *computev1.SecurityGroup, r computev1.SecurityGroupRule) bool {
	id := SecurityGroupRuleID(string(g.UID), r)
	for _, have := range g.Spec.Rules {
		if SecurityGroupRuleID(string(g.UID), have) == id {
			return true
		}
	}
	return false
}

// RuleExistsError is a rule a group holds already.
type RuleExistsError struct{ ID string }

func (e *RuleExistsError) Error() string {
	return "Security group rule already exists. Rule id is " + e.ID + "."
}

// SecurityGroupsNamed are the groups a name or id means, as Neutron finds a group by name
// or id: the one whose uid it is, else every group with that name.
func SecurityGroupsNamed(groups []computev1.SecurityGroup, nameOrID string) []*computev1.SecurityGroup {
	var out []*computev1.SecurityGroup
	for i := range groups {
		if string(groups[i].UID) == nameOrID {
			return []*computev1.SecurityGroup{&groups[i]}
		}
	}
	for i := range groups {
		if groups[i].DisplayName() == nameOrID {
			out = append(out, &groups[i])
		}
	}
	return out
}

// ServerSecurityGroups are the names of the groups a server is in: the tenant's default
// group when its spec has no list at all (a server stored before the field was there; the
// CRD defaults it for any other).
func ServerSecurityGroups(srv *computev1.Server) []string {
	if srv.Spec.SecurityGroups == nil {
		return []string{DefaultSecurityGroup}
	}
	return srv.Spec.SecurityGroups
}

// DefaultFloatingIPPool is the pool a floating IP comes from when a request names none
// (Nova's [neutron] default_floating_pool, here the public network).
const DefaultFloatingIPPool = "public"
