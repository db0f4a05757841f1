package schemas

import (
	"slices"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// SortKeys are Nova's valid server sort keys; ignoredSortKeys were accepted and ignored
// before 2.75 (locked among them before 2.73).
var (
	SortKeys = []string{"access_ip_v4", "access_ip_v6", "auto_disk_config",
		"availability_zone", "config_drive", "created_at",
		"display_description", "display_name", "host", "hostname",
		"image_ref", "instance_type_id", "kernel_id", "key_name",
		"launch_index", "launched_at", "locked_by", "node", "power_state",
		"progress", "project_id", "ramdisk_id", "root_device_name",
		"task_state", "terminated_at", "updated_at", "user_id", "uuid",
		"vm_state"}
	ignoredSortKeys = []string{"architecture", "cell_name", "cleaned", "default_ephemeral_device",
		"default_swap_device", "deleted", "deleted_at", "disable_terminate",
		"ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
		"locked", "memory_mb", "os_type", "reservation_id", "root_gb",
		"shutdown_terminate", "user_data", "vcpus", "vm_mode"}
)

// IgnoredSortKeys are the sort keys the query accepts at v and the list ignores: none
// from 2.75, and from 2.73 locked is a real one.
func IgnoredSortKeys(v microversion.Version) []string {
	switch {
	case v.AtLeast(75):
		return nil
	case v.AtLeast(73):
		return slices.DeleteFunc(slices.Clone(ignoredSortKeys), func(k string) bool { return k == "locked" })
	}
	return ignoredSortKeys
}

// ServerQuery is GET /servers's (and /servers/detail's) query schema.
func ServerQuery(v microversion.Version) *js.Schema {
	regex := []string{"kernel_id", "ramdisk_id", "hostname", "key_name", "power_state", "node",
		"flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone", "name",
		"display_name", "description", "display_description", "locked_by", "root_device_name",
		"config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "ip", "ip6", "created_at"}
	plain := []string{"user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image",
		"vm_state", "task_state", "host", "uuid", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
		"block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices",
		"marker"}
	var ps []js.Prop
	for _, n := range plain {
		ps = append(ps, js.P(n, qParam))
	}
	for _, n := range regex {
		ps = append(ps, js.P(n, qRegexParam))
	}
	ps = append(ps, js.P("changes-since", qDateTime), js.P("limit", qLimit))
	if v.AtLeast(26) {
		for _, n := range []string{"tags", "tags-any", "not-tags", "not-tags-any"} {
			ps = append(ps, js.P(n, qRegexParam))
		}
	}
	if v.AtLeast(66) {
		ps = append(ps, js.P("changes-before", qDateTime))
	}
	keys := slices.Concat(SortKeys, IgnoredSortKeys(v))
	if v.AtLeast(73) {
		keys = slices.Concat(SortKeys, []string{"locked"}, IgnoredSortKeys(v))
	}
	enum := make([]any, len(keys))
	for i, k := range keys {
		enum[i] = k
	}
	ps = append(ps, js.P("sort_key", js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Enum(enum...))))))
	if v.AtLeast(73) {
		ps = append(ps, js.P("locked", qParam))
	}
	kws := []js.Keyword{js.Type("object"), js.Properties(ps...), js.PatternProperties("^_", "^_", qParam)}
	if v.AtLeast(75) {
		kws = append(kws, js.NoAdditionalProperties())
	}
	return js.New(kws...)
}
