// Package quota holds Nova's quotas as Kova enforces them: the limits a tenant has (its
// Quota over the QuotaClass "default" over Nova's defaults), the check that refuses a create
// or a resize past them in Nova's words, the count of what a tenant's servers hold, and the
// reservation that admission makes before a server is stored. The webhook, the controller
// and the REST shim all use it, so a 403 from the API and a denial from kubectl say the same.
package quota

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Nova's quota_set keys.
const (
	Instances                = "instances"
	Cores                    = "cores"
	RAM                      = "ram"
	KeyPairs                 = "key_pairs"
	MetadataItems            = "metadata_items"
	ServerGroups             = "server_groups"
	ServerGroupMembers       = "server_group_members"
	InjectedFiles            = "injected_files"
	InjectedFileContentBytes = "injected_file_content_bytes"
	InjectedFilePathBytes    = "injected_file_path_bytes"
	FloatingIPs              = "floating_ips"
	FixedIPs                 = "fixed_ips"
	SecurityGroups           = "security_groups"
	SecurityGroupRules       = "security_group_rules"
)

// Unlimited is Nova's "no limit".
const Unlimited = -1

// resource is one quota: its Nova key, its default ([quota] in nova.conf) and its field
// in QuotaLimits. The network quotas (floating_ips, security_groups, security_group_rules)
// are the networking service's, which enforces them, so their defaults are Neutron's
// ([quotas] quota_floatingip 50, quota_security_group 10, quota_security_group_rule 100,
// per project): Nova (Zed) shows -1 for them, leaving them to Neutron, but Kova is both, and
// shows through either the one number it enforces.
type resource struct {
	name  string
	def   int64
	field func(*computev1.QuotaLimits) **int64
}

var resources = []resource{
	{Cores, 20, func(l *computev1.QuotaLimits) **int64 { return &l.Cores }},
	{FixedIPs, Unlimited, func(l *computev1.QuotaLimits) **int64 { return &l.FixedIPs }},
	{FloatingIPs, 50, func(l *computev1.QuotaLimits) **int64 { return &l.FloatingIPs }},
	{InjectedFileContentBytes, 10240, func(l *computev1.QuotaLimits) **int64 { return &l.InjectedFileContentBytes }},
	{InjectedFilePathBytes, 255, func(l *computev1.QuotaLimits) **int64 { return &l.InjectedFilePathBytes }},
	{InjectedFiles, 5, func(l *computev1.QuotaLimits) **int64 { return &l.InjectedFiles }},
	{Instances, 10, func(l *computev1.QuotaLimits) **int64 { return &l.Instances }},
	{KeyPairs, 100, func(l *computev1.QuotaLimits) **int64 { return &l.KeyPairs }},
	{MetadataItems, 128, func(l *computev1.QuotaLimits) **int64 { return &l.MetadataItems }},
	{RAM, 51200, func(l *computev1.QuotaLimits) **int64 { return &l.RAM }},
	{SecurityGroupRules, 100, func(l *computev1.QuotaLimits) **int64 { return &l.SecurityGroupRules }},
	{SecurityGroups, 10, func(l *computev1.QuotaLimits) **int64 { return &l.SecurityGroups }},
	{ServerGroupMembers, 10, func(l *computev1.QuotaLimits) **int64 { return &l.ServerGroupMembers }},
	{ServerGroups, 10, func(l *computev1.QuotaLimits) **int64 { return &l.ServerGroups }},
}

// Names are every quota's Nova key, in Nova's (alphabetical) order.
func Names() []string {
	out := make([]string, len(resources))
	for i, r := range resources {
		out[i] = r.name
	}
	return out
}

// Limits are a tenant's quotas by Nova key.
type Limits map[string]int64

// Effective are the limits a tenant has: each field of its Quota's spec, else of the quota
// class's, else Nova's default. Either may be nil.
func Effective(class, tenant *computev1.QuotaLimits) Limits {
	out := Limits{}
	for _, r := range resources {
		out[r.name] = r.def
		for _, l := range []*computev1.QuotaLimits{class, tenant} {
			if l != nil {
				if v := *r.field(l); v != nil {
					out[r.name] = *v
				}
			}
		}
	}
	return out
}

// Set sets one quota of l by its Nova key; nil clears it (back to the next level). It
// says false for a key that is not a quota.
func Set(l *computev1.QuotaLimits, name string, v *int64) bool {
	for _, r := range resources {
		if r.name == name {
			*r.field(l) = v
			return true
		}
	}
	return false
}
