package novaapi

import (
	"net"
	"regexp"
	"slices"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// statusFilter maps statuses to the vm_states and task_states Nova filters by
// (common.task_and_vm_state_from_status). empty says Nova answers an empty list.
func statusFilter(rq *request, statuses []string, admin bool) (serverFilter, bool, error) {
	want := map[string]bool{}
	for _, s := range statuses {
		want[strings.ToLower(s)] = true
	}
	vms := map[lifecycle.VMState]bool{}
	tasks := map[lifecycle.TaskState]bool{}
	anyTask := false
	for _, vm := range lifecycle.AllVMStates {
		def := lifecycle.Status(vm, lifecycle.TaskNone)
		if want[strings.ToLower(def)] {
			vms[vm] = true
			anyTask = true
		}
		for _, t := range lifecycle.AllTaskStates {
			if s := lifecycle.Status(vm, t); s != def && want[strings.ToLower(s)] {
				vms[vm] = true
				tasks[t] = true
			}
		}
	}
	if len(vms) == 0 {
		if rq.version.AtLeast(38) {
			return nil, false, badRequest("Invalid status value")
		}
		return nil, true, nil
	}
	if len(vms) == 1 && vms[lifecycle.VMDeleted] {
		if !admin {
			return nil, false, forbidden("Only administrators may list deleted instances")
		}
		return nil, true, nil
	}
	return func(_ *computev1.Server, st lifecycle.State) bool {
		return vms[st.VM] && (anyTask || tasks[st.Task])
	}, false, nil
}

// exactFilters and the rest: Nova's database layer matches these search options exactly,
// and every other one as a regular expression.
var exactFilters = map[string]bool{"project_id": true, "tenant_id": true, "user_id": true, "image_ref": true, "image": true,
	"vm_state": true, "task_state": true, "uuid": true, "host": true}

// searchFilters builds the remaining search options. A nil result with no error means
// nothing can match (an unknown flavor), which Nova answers with an empty list.
func (h *handler) searchFilters(rq *request, opts *js.Object) ([]serverFilter, error) {
	filters := []serverFilter{}
	for _, k := range opts.Keys() {
		val := lastValue(opts, k)
		switch k {
		case "status", "changes-since", "changes-before", "deleted", "all_tenants", "locked", "soft_deleted", "project_id", "tenant_id":
			continue
		case "flavor":
			f, err := h.flavor(rq.ctx, val)
			if err != nil {
				return nil, err
			}
			if f == nil {
				return nil, nil
			}
			filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool { return serverFlavorID(srv) == f.Name })
		case "image", "image_ref":
			id := val
			if i := strings.LastIndex(id, "/"); i >= 0 {
				id = id[i+1:]
			}
			filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool {
				got, err := h.serverImageID(rq.ctx, srv)
				return err == nil && got == id
			})
		case "ip", "ip6":
			re, err := regexp.Compile("^(?:" + val + ")")
			if err != nil {
				return nil, badRequest("Invalid filter field: %s.", k)
			}
			version := 4
			if k == "ip6" {
				version = 6
			}
			filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool {
				for _, a := range srv.Status.Addresses {
					v := int(a.Version)
					if v == 0 {
						v = 4
						if ip := net.ParseIP(a.Address); ip != nil && ip.To4() == nil {
							v = 6
						}
					}
					if v == version && re.MatchString(a.Address) {
						return true
					}
				}
				return false
			})
		case "tags", "tags-any", "not-tags", "not-tags-any":
			want := strings.Split(val, ",")
			kind := k
			filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool {
				have := serverTags(srv)
				all, anyOf := true, false
				for _, t := range want {
					if slices.Contains(have, t) {
						anyOf = true
					} else {
						all = false
					}
				}
				switch kind {
				case "tags":
					return all
				case "tags-any":
					return anyOf
				case "not-tags":
					return !all
				}
				return !anyOf
			})
		case "vm_state", "task_state":
			vals := allValues(opts, k)
			kind := k
			filters = append(filters, func(_ *computev1.Server, st lifecycle.State) bool {
				if kind == "vm_state" {
					return slices.Contains(vals, string(st.VM))
				}
				return slices.Contains(vals, string(st.Task))
			})
		default:
			get, ok := serverFields[k]
			if !ok {
				continue // accepted by the schema, not a column Kova has
			}
			if exactFilters[k] {
				filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool { return get(srv) == val })
				continue
			}
			re, err := regexp.Compile(val)
			if err != nil {
				return nil, badRequest("Invalid filter field: %s.", k)
			}
			filters = append(filters, func(srv *computev1.Server, _ lifecycle.State) bool { return re.MatchString(get(srv)) })
		}
	}
	return filters, nil
}
