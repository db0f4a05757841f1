package views

import "github.com/kova-dev/kova/internal/novaapi/microversion"

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

// LimitsInput is what the limits show: Kova's one quota (instances), the metadata bound,
// and the tenant's usage.
type LimitsInput struct {
	MaxInstances, MaxMetaItems int
	Instances                  int
	Cores, RAM                 int64
}

// NewLimits lays out the limits at v. Kova enforces no quota on cores, RAM or keypairs
// (-1, Nova's unlimited) and has no file injection or server groups (0).
func NewLimits(in LimitsInput, v microversion.Version) *Limits {
	abs := AbsoluteLimits{
		MaxServerMeta:      in.MaxMetaItems,
		MaxTotalCores:      -1,
		MaxTotalInstances:  max(in.MaxInstances, -1),
		MaxTotalKeypairs:   -1,
		MaxTotalRAMSize:    -1,
		TotalCoresUsed:     in.Cores,
		TotalInstancesUsed: in.Instances,
		TotalRAMUsed:       in.RAM,
	}
	unlimited, none := -1, 0
	if !v.AtLeast(36) {
		abs.MaxSecurityGroups, abs.MaxSecurityGroupRules, abs.MaxTotalFloatingIps = &unlimited, &unlimited, &unlimited
		abs.TotalFloatingIpsUsed, abs.TotalSecurityGroupsUsed = &none, &none
	}
	if !v.AtLeast(39) {
		abs.MaxImageMeta = &in.MaxMetaItems
	}
	if !v.AtLeast(57) {
		abs.MaxPersonality, abs.MaxPersonalitySize = &none, &none
	}
	return &Limits{Absolute: abs, Rate: []any{}}
}
