package views

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	"github.com/kova-dev/kova/internal/quota"
)

// Limits is GET /limits's "limits" (views/limits.py): absolute limits and usage, and no
// rate limits.
type Limits struct {
	Absolute AbsoluteLimits `json:"absolute"`
	Rate     []any          `json:"rate"`
}

// AbsoluteLimits are the tenant's maxima (-1 is unlimited) and what it uses.
//
//	2.1+   the fields below
//	2.36   the security group, floating IP and network proxies' limits go (-1 and 0 before)
//	2.39   maxImageMeta goes
//	2.57   maxPersonality and maxPersonalitySize go
type AbsoluteLimits struct {
	MaxServerMeta         int   `json:"maxServerMeta"`
	MaxTotalCores         int   `json:"maxTotalCores"`
	MaxTotalInstances     int   `json:"maxTotalInstances"`
	MaxTotalKeypairs      int   `json:"maxTotalKeypairs"`
	MaxTotalRAMSize       int   `json:"maxTotalRAMSize"`
	MaxServerGroups       int   `json:"maxServerGroups"`
	MaxServerGroupMembers int   `json:"maxServerGroupMembers"`
	TotalCoresUsed        int64 `json:"totalCoresUsed"`
	TotalInstancesUsed    int   `json:"totalInstancesUsed"`
	TotalRAMUsed          int64 `json:"totalRAMUsed"`
	TotalServerGroupsUsed int   `json:"totalServerGroupsUsed"`

	// Before 2.36.
	MaxSecurityGroups       *int `json:"maxSecurityGroups,omitempty"`
	MaxSecurityGroupRules   *int `json:"maxSecurityGroupRules,omitempty"`
	MaxTotalFloatingIps     *int `json:"maxTotalFloatingIps,omitempty"`
	TotalFloatingIpsUsed    *int `json:"totalFloatingIpsUsed,omitempty"`
	TotalSecurityGroupsUsed *int `json:"totalSecurityGroupsUsed,omitempty"`
	// Before 2.39.
	MaxImageMeta *int `json:"maxImageMeta,omitempty"`
	// Before 2.57.
	MaxPersonality     *int `json:"maxPersonality,omitempty"`
	MaxPersonalitySize *int `json:"maxPersonalitySize,omitempty"`
}

// NewLimits lays out a tenant's limits (its quotas, -1 unlimited) and usage at v. Kova
// has no server groups (0 used); the network proxies' usage is 0.
func NewLimits(l quota.Limits, used quota.Usage, v microversion.Version) *Limits {
	abs := AbsoluteLimits{
		MaxServerMeta:         int(l[quota.MetadataItems]),
		MaxTotalCores:         int(l[quota.Cores]),
		MaxTotalInstances:     int(l[quota.Instances]),
		MaxTotalKeypairs:      int(l[quota.KeyPairs]),
		MaxTotalRAMSize:       int(l[quota.RAM]),
		MaxServerGroups:       int(l[quota.ServerGroups]),
		MaxServerGroupMembers: int(l[quota.ServerGroupMembers]),
		TotalCoresUsed:        used.Cores,
		TotalInstancesUsed:    int(used.Instances),
		TotalRAMUsed:          used.RAM,
	}
	limit := func(name string) *int { n := int(l[name]); return &n }
	none := 0
	if !v.AtLeast(36) {
		abs.MaxSecurityGroups, abs.MaxSecurityGroupRules = limit(quota.SecurityGroups), limit(quota.SecurityGroupRules)
		abs.MaxTotalFloatingIps = limit(quota.FloatingIPs)
		abs.TotalFloatingIpsUsed, abs.TotalSecurityGroupsUsed = &none, &none
	}
	if !v.AtLeast(39) {
		abs.MaxImageMeta = limit(quota.MetadataItems)
	}
	if !v.AtLeast(57) {
		abs.MaxPersonality, abs.MaxPersonalitySize = limit(quota.InjectedFiles), limit(quota.InjectedFileContentBytes)
	}
	return &Limits{Absolute: abs, Rate: []any{}}
}
