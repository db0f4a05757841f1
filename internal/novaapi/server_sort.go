package novaapi

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// serverFields are the instance columns Nova filters and sorts by, as text.
var serverFields = map[string]func(*computev1.Server) string{
	"name":                func(s *computev1.Server) string { return s.DisplayName() },
	"display_name":        func(s *computev1.Server) string { return s.DisplayName() },
	"description":         func(s *computev1.Server) string { return ptr.Deref(s.Spec.Description, "") },
	"display_description": func(s *computev1.Server) string { return ptr.Deref(s.Spec.Description, "") },
	"user_id":             func(s *computev1.Server) string { return annotationOr(s, annUserID, "") },
	"project_id":          func(s *computev1.Server) string { return s.Namespace },
	"uuid":                func(s *computev1.Server) string { return string(s.UID) },
	"host":                func(s *computev1.Server) string { return s.Status.Host },
	"node":                func(s *computev1.Server) string { return s.Status.Host },
	"hostname":            func(s *computev1.Server) string { return views.Hostname(s.DisplayName()) },
	"key_name":            func(s *computev1.Server) string { k, _ := keyName(s).(string); return k },
	"availability_zone":   func(s *computev1.Server) string { return views.AvailabilityZone(s, defaultAZ) },
	"reservation_id":      reservationID,
	"power_state":         func(s *computev1.Server) string { return strconv.Itoa(int(s.Status.PowerState)) },
	"progress":            func(s *computev1.Server) string { return strconv.Itoa(int(s.Status.Progress)) },
	"access_ip_v4":        func(s *computev1.Server) string { return s.Spec.AccessIPv4 },
	"access_ip_v6":        func(s *computev1.Server) string { return s.Spec.AccessIPv6 },
	"config_drive":        func(s *computev1.Server) string { return annotationOr(s, annConfigDrive, "") },
	"auto_disk_config": func(s *computev1.Server) string {
		if annotationOr(s, annDiskConfig, "") == "AUTO" {
			return "1"
		}
		return "0"
	},
	"launch_index": func(s *computev1.Server) string { return annotationOr(s, annLaunchIndex, "0") },
	"locked_by": func(s *computev1.Server) string {
		if s.Status.Locked {
			return "owner"
		}
		return ""
	},
	"locked":           func(s *computev1.Server) string { return strconv.FormatBool(s.Status.Locked) },
	"instance_type_id": serverFlavorID,
	"image_ref":        func(s *computev1.Server) string { return s.Status.ImageUID },
	"kernel_id":        func(*computev1.Server) string { return "" },
	"ramdisk_id":       func(*computev1.Server) string { return "" },
	"root_device_name": func(*computev1.Server) string { return "/dev/vda" },
	"created_at":       func(s *computev1.Server) string { return sortableTime(s.CreationTimestamp.Time) },
	"updated_at":       func(s *computev1.Server) string { return sortableTime(serverUpdated(s)) },
	"launched_at": func(s *computev1.Server) string {
		if s.Status.LaunchedAt == nil {
			return ""
		}
		return sortableTime(s.Status.LaunchedAt.Time)
	},
	"terminated_at": func(*computev1.Server) string { return "" },
	"vm_state":      func(s *computev1.Server) string { return string(rules.ObservedState(s).VM) },
	"task_state":    func(s *computev1.Server) string { return string(rules.ObservedState(s).Task) },
}

func sortableTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000") }

// numericSortFields sort as numbers.
var numericSortFields = map[string]bool{"power_state": true, "progress": true, "launch_index": true}

// serverSort is a list's order: Nova's sort keys and directions, then created_at and a
// tie-breaker that makes the order total, so a marker always has one place.
type serverSort struct {
	keys []string
	desc []bool
}

func serverOrder(q *js.Object, admin bool, v apiVersion) (serverSort, error) {
	var o serverSort
	keys := trimAll(allValues(q, "sort_key"))
	dirs := trimAll(allValues(q, "sort_dir"))
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) == 0 {
		dirs = []string{"desc"}
	}
	ignored := schemas.IgnoredSortKeys(v)
	for i := 0; i < len(keys); {
		k := keys[i]
		if slices.Contains(ignored, k) {
			if len(dirs) > i {
				dirs = slices.Delete(dirs, i, i+1)
			}
			keys = slices.Delete(keys, i, i+1)
			continue
		}
		if (k == "host" || k == "node") && !admin {
			return o, forbidden("Only administrators can sort servers by %s", k)
		}
		i++
	}
	defDir := "desc"
	if len(dirs) > 0 {
		defDir = dirs[0]
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return o, badRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'")
		}
	}
	for len(dirs) < len(keys) {
		dirs = append(dirs, defDir)
	}
	if len(dirs) > len(keys) {
		return o, badRequest("Invalid input received: Sort direction size exceeds sort key size")
	}
	o.keys, o.desc = keys, make([]bool, len(dirs))
	for i, d := range dirs {
		o.desc[i] = d == "desc"
	}
	if !slices.Contains(o.keys, "created_at") {
		o.keys = append(o.keys, "created_at")
		o.desc = append(o.desc, defDir == "desc")
	}
	// Nova's last default key is the database id, creation order; the name stands in.
	o.keys = append(o.keys, "")
	o.desc = append(o.desc, defDir == "desc")
	return o, nil
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// serverTimes are the sort keys that are times: compared as times, in the order of their
// text in serverFields, without making the text (a list sorts every server of a tenant).
var serverTimes = map[string]func(*computev1.Server) time.Time{
	"created_at": func(s *computev1.Server) time.Time { return s.CreationTimestamp.Time },
	"updated_at": serverUpdated,
	"launched_at": func(s *computev1.Server) time.Time {
		if s.Status.LaunchedAt == nil {
			return time.Time{}
		}
		return s.Status.LaunchedAt.Time
	},
}

// compareJoined compares a1+"/"+a2 with b1+"/"+b2 without joining them.
func compareJoined(a1, a2, b1, b2 string) int {
	n := min(len(a1), len(b1))
	if c := strings.Compare(a1[:n], b1[:n]); c != 0 {
		return c
	}
	// One is a prefix of the other: the next byte is '/' on the shorter side.
	switch {
	case len(a1) < len(b1):
		return cmp.Compare('/', b1[n])
	case len(a1) > len(b1):
		return cmp.Compare(a1[n], '/')
	}
	return strings.Compare(a2, b2)
}

func (o serverSort) less(a, b *computev1.Server) bool {
	for i, k := range o.keys {
		var c int
		switch get, isTime := serverTimes[k]; {
		case k == "":
			c = compareJoined(a.Namespace, a.Name, b.Namespace, b.Name)
		case isTime:
			c = get(a).Compare(get(b))
		default:
			c = compareField(k, a, b)
		}
		if c == 0 {
			continue
		}
		if o.desc[i] {
			return c > 0
		}
		return c < 0
	}
	return false
}

// compareField compares two servers by the text of one of serverFields (0 for a key it
// does not know).
func compareField(k string, a, b *computev1.Server) int {
	get, ok := serverFields[k]
	if !ok {
		return 0
	}
	x, y := get(a), get(b)
	if numericSortFields[k] {
		xi, _ := strconv.Atoi(x)
		yi, _ := strconv.Atoi(y)
		return cmp.Compare(xi, yi)
	}
	return strings.Compare(x, y)
}
