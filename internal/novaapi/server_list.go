package novaapi

import (
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// GET /servers and /servers/detail, after Nova's _get_servers: query schema, the filters a
// non-admin may use, status to vm_state/task_state, all_tenants for admins, sort keys,
// marker and limit, and "servers_links" when the page is full.

// knownParams strips, before 2.75, the query parameters the schema does not know, as
// Nova's query validator does; from 2.75 the schema has already refused them.
func knownParams(s *js.Schema, q *js.Object) *js.Object {
	out := js.NewObject()
	for _, k := range q.Keys() {
		if s.Property(k) == nil && !strings.HasPrefix(k, "_") {
			continue
		}
		v, _ := q.Get(k)
		out.Set(k, v)
	}
	return out
}

// nonAdminFilters are the search options a non-admin may use at a microversion.
func nonAdminFilters(v apiVersion) []string {
	opts := []string{"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"}
	if v.AtLeast(5) {
		opts = append(opts, "ip6")
	}
	if v.AtLeast(26) {
		opts = append(opts, "tags", "tags-any", "not-tags", "not-tags-any")
	}
	if v.AtLeast(66) {
		opts = append(opts, "changes-before")
	}
	if v.AtLeast(73) {
		opts = append(opts, "locked")
	}
	return opts
}

var joinedTableFilters = []string{"block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices"}

// lastValue is how Nova reads one search option: the last value given.
func lastValue(q *js.Object, k string) string {
	v, _ := q.Get(k)
	vals, _ := v.([]any)
	if len(vals) == 0 {
		return ""
	}
	s, _ := vals[len(vals)-1].(string)
	return s
}

func allValues(q *js.Object, k string) []string {
	v, _ := q.Get(k)
	vals, _ := v.([]any)
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// boolFromString is oslo's strict bool_from_string.
func boolFromString(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, badRequest("Invalid input received: Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", s)
}

// serverFilter is one search option applied to a server.
type serverFilter func(srv *computev1.Server, st lifecycle.State) bool

func (h *handler) listServers(rq *request) error       { return h.servers(rq, false) }
func (h *handler) listServersDetail(rq *request) error { return h.servers(rq, true) }

// serverSearch is what a list asks for: where, which servers, and whether the caller is
// an admin (who may use every filter). none says nothing can match.
type serverSearch struct {
	namespaces []string // "" for all
	filters    []serverFilter
	admin      bool
	none       bool
}

// listedServer is a server in a list, with the state it is shown in.
type listedServer struct {
	srv *computev1.Server
	st  lifecycle.State
}

var pagingParams = []string{"limit", "marker", "sort_key", "sort_dir"}

func (h *handler) servers(rq *request, detail bool) error {
	qs := schemas.ServerQuery(rq.version)
	if err := validateQuery(qs, rq.r); err != nil {
		return err
	}
	query := knownParams(qs, queryObject(rq.r))
	search, err := h.serverSearch(rq, query, detail)
	if err != nil {
		return err
	}
	if search.none {
		return rq.json(http.StatusOK, map[string]any{"servers": []any{}})
	}
	limit, marker, err := limitAndMarker(query)
	if err != nil {
		return err
	}
	order, err := serverOrder(query, search.admin, rq.version)
	if err != nil {
		return err
	}
	// The page is made from the cached servers while a LIST says which of them are current
	// (consistency.go); only when some were not is it made again, from the current ones.
	check := h.checkServers(rq.ctx, search.namespaces)
	cached, err := h.cachedServers(rq.ctx, search.namespaces)
	if err != nil {
		return err
	}
	rendered := map[string]any{}
	body, pageErr := h.serverPage(rq, search, cached, order, marker, limit, detail, rendered)
	current, changed, err := check.wait(rq.ctx, h, cached)
	if err != nil {
		return err
	}
	if changed {
		body, pageErr = h.serverPage(rq, search, current, order, marker, limit, detail, rendered)
	}
	if pageErr != nil {
		return pageErr
	}
	return rq.json(http.StatusOK, body)
}

// serverPage is the body of a list of servers: their actions read, their states projected,
// the filters, order, marker and limit applied, the page rendered. rendered keeps what was
// rendered, by server, version and state, for a second page made from newer copies.
func (h *handler) serverPage(rq *request, search *serverSearch, all []computev1.Server, order serverSort, marker string, limit int, detail bool, rendered map[string]any) (map[string]any, error) {
	all, items, err := h.findServers(rq, search, all)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(items, func(i, j int) bool { return order.less(items[i].srv, items[j].srv) })
	if marker != "" {
		// Nova pages from the marker's place in the order, whether or not it matches.
		at := slices.IndexFunc(all, func(s computev1.Server) bool { return string(s.UID) == marker })
		if at < 0 {
			return nil, markerNotFound(marker)
		}
		start := sort.Search(len(items), func(i int) bool { return order.less(&all[at], items[i].srv) })
		items = items[start:]
	}
	if len(items) > limit {
		items = items[:limit]
	}

	servers := make([]any, 0, len(items))
	for _, e := range items {
		if !detail {
			id := string(e.srv.UID)
			servers = append(servers, map[string]any{"id": id, "name": e.srv.DisplayName(), "links": rq.links("servers", id)})
			continue
		}
		key := string(e.srv.UID) + "/" + e.srv.ResourceVersion + "/" + string(e.st.VM) + "/" + string(e.st.Task) + "/" + strconv.Itoa(int(e.st.Power))
		v, ok := rendered[key]
		if !ok {
			if v, err = rq.buildServer(e.srv, e.st, serverView{ServerShape: views.ServerShape{Full: true, InList: true}}); err != nil {
				return nil, err
			}
			rendered[key] = v
		}
		servers = append(servers, v)
	}
	last := lastID(items, func(e listedServer) string { return string(e.srv.UID) })
	return rq.listBody("servers", "servers", detail, servers, limit, last), nil
}

// serverSearch reads the search options, as Nova's _get_servers does: a non-admin's
// options beyond the allowed ones are dropped, then status, changes-since/-before,
// deleted, all_tenants, locked and the column filters are read.
func (h *handler) serverSearch(rq *request, query *js.Object, detail bool) (*serverSearch, error) {
	search := &serverSearch{namespaces: []string{rq.caller.Tenant}}
	allowed := nonAdminFilters(rq.version)
	needAdmin := detail // the detail view shows admins more
	for _, k := range query.Keys() {
		if !slices.Contains(allowed, k) && !slices.Contains(pagingParams, k) {
			needAdmin = true
		}
	}
	if needAdmin {
		var err error
		if search.admin, err = rq.isAdmin(); err != nil {
			return nil, err
		}
	}
	opts := js.NewObject()
	for _, k := range query.Keys() {
		if slices.Contains(pagingParams, k) || (!search.admin && !slices.Contains(allowed, k)) {
			continue
		}
		if slices.Contains(joinedTableFilters, k) || strings.HasPrefix(k, "_") {
			return nil, badRequest("Invalid filter field: %s.", k)
		}
		v, _ := query.Get(k)
		opts.Set(k, v)
	}

	if _, ok := opts.Get("status"); ok {
		f, empty, err := statusFilter(rq, allValues(opts, "status"), search.admin)
		if err != nil || empty {
			search.none = empty
			return search, err
		}
		search.filters = append(search.filters, f)
	}
	window, err := changesWindow(opts)
	if err != nil {
		return nil, err
	}
	if window != nil {
		search.filters = append(search.filters, func(srv *computev1.Server, _ lifecycle.State) bool { return window(serverUpdated(srv)) })
	}
	if _, ok := opts.Get("deleted"); ok {
		if deleted, _ := boolFromString(lastValue(opts, "deleted")); deleted {
			search.none = true // Kova keeps no record of deleted servers.
			return search, nil
		}
	}
	if _, ok := opts.Get("all_tenants"); ok {
		all := true // the bare parameter means yes
		if v := lastValue(opts, "all_tenants"); v != "" {
			if all, err = boolFromString(v); err != nil {
				return nil, err
			}
		}
		if all {
			if search.namespaces, err = allTenants(rq, opts, detail); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := opts.Get("locked"); ok {
		locked, err := boolFromString(lastValue(opts, "locked"))
		if err != nil {
			return nil, err
		}
		search.filters = append(search.filters, func(srv *computev1.Server, _ lifecycle.State) bool { return srv.Spec.Locked == locked })
	}
	more, err := h.searchFilters(rq, opts)
	if err != nil {
		return nil, err
	}
	search.none = more == nil
	search.filters = append(search.filters, more...)
	return search, nil
}

// allTenants is where all_tenants looks: every namespace, or the one tenant_id (or
// project_id) names. Only the cloud operator may: a tenant's kova-admin is not admin anywhere.
func allTenants(rq *request, opts *js.Object, detail bool) ([]string, error) {
	rule := "os_compute_api:servers:index:get_all_tenants"
	if detail {
		rule = "os_compute_api:servers:detail:get_all_tenants"
	}
	ok := false
	if rq.h.admins != nil {
		var err error
		if ok, err = rq.h.admins.IsAdmin(rq.ctx, rq.caller.User); err != nil {
			return nil, err
		}
	}
	if !ok {
		return nil, policyForbidden(rule)
	}
	namespaces := []string{""}
	for _, k := range []string{"project_id", "tenant_id"} {
		if _, ok := opts.Get(k); ok {
			namespaces = []string{lastValue(opts, k)}
		}
	}
	return namespaces, nil
}

// findServers reads the actions of the servers given (consistency.go), projects their
// states and keeps those the filters match. Servers an action finished on after they were
// read are read again, so all is returned too.
func (h *handler) findServers(rq *request, search *serverSearch, all []computev1.Server) ([]computev1.Server, []listedServer, error) {
	actions := map[string][]computev1.ServerAction{}
	var fresh []computev1.ServerAction
	for _, ns := range search.namespaces {
		byServer, read, err := h.actionsIn(rq.ctx, ns, all)
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(actions, byServer)
		fresh = append(fresh, read...)
	}
	all, err := h.catchUp(rq.ctx, slices.Clone(all), fresh)
	if err != nil {
		return nil, nil, err
	}
	var items []listedServer
	for i := range all {
		srv := &all[i]
		st := rules.ProjectedState(srv, actions[srv.Namespace+"/"+srv.Name])
		if !slices.ContainsFunc(search.filters, func(f serverFilter) bool { return !f(srv, st) }) {
			items = append(items, listedServer{srv, st})
		}
	}
	return all, items, nil
}

// changesWindow reads changes-since and changes-before: a test of an update time, or nil
// when neither is given.
func changesWindow(q *js.Object) (func(time.Time) bool, error) {
	var since, before *time.Time
	for _, k := range []string{"changes-since", "changes-before"} {
		if _, ok := q.Get(k); !ok {
			continue
		}
		t, err := js.ParseISOTime(lastValue(q, k))
		if err != nil {
			return nil, badRequest("Invalid filter field: %s.", k)
		}
		if k == "changes-since" {
			since = &t
		} else {
			before = &t
		}
	}
	if since == nil && before == nil {
		return nil, nil
	}
	if since != nil && before != nil && before.Before(*since) {
		return nil, badRequest("The value of changes-since must be less than or equal to changes-before.")
	}
	return func(u time.Time) bool {
		return (since == nil || !u.Before(*since)) && (before == nil || !u.After(*before))
	}, nil
}

// limitAndMarker is Nova's get_limit_and_marker: the limit capped at max_limit.
func limitAndMarker(q *js.Object) (int, string, error) {
	limit := maxListLimit
	if _, ok := q.Get("limit"); ok {
		n, err := strconv.Atoi(lastValue(q, "limit"))
		if err != nil || n < 0 {
			return 0, "", badRequest("Invalid input received: limit must be an integer")
		}
		limit = min(n, maxListLimit)
	}
	return limit, lastValue(q, "marker"), nil
}

func serverUpdated(srv *computev1.Server) time.Time {
	u := srv.CreationTimestamp.Time
	if srv.Status.Updated != nil && srv.Status.Updated.After(u) {
		u = srv.Status.Updated.Time
	}
	return u
}

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

// serverFields are the instance columns Nova filters and sorts by, as text.
var serverFields = map[string]func(*computev1.Server) string{
	"name":                func(s *computev1.Server) string { return s.DisplayName() },
	"display_name":        func(s *computev1.Server) string { return s.DisplayName() },
	"description":         func(s *computev1.Server) string { return annotationOr(s, annDescription, "") },
	"display_description": func(s *computev1.Server) string { return annotationOr(s, annDescription, "") },
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
	"access_ip_v4":        func(s *computev1.Server) string { return annotationOr(s, annAccessIPv4, "") },
	"access_ip_v6":        func(s *computev1.Server) string { return annotationOr(s, annAccessIPv6, "") },
	"config_drive":        func(s *computev1.Server) string { return annotationOr(s, annConfigDrive, "") },
	"auto_disk_config": func(s *computev1.Server) string {
		if annotationOr(s, annDiskConfig, "") == "AUTO" {
			return "1"
		}
		return "0"
	},
	"launch_index": func(s *computev1.Server) string { return annotationOr(s, annLaunchIndex, "0") },
	"locked_by": func(s *computev1.Server) string {
		if s.Spec.Locked {
			return "owner"
		}
		return ""
	},
	"locked":           func(s *computev1.Server) string { return strconv.FormatBool(s.Spec.Locked) },
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

func (o serverSort) less(a, b *computev1.Server) bool {
	for i, k := range o.keys {
		var x, y string
		if k == "" {
			x, y = a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name
		} else if get, ok := serverFields[k]; ok {
			x, y = get(a), get(b)
		} else {
			continue
		}
		if x == y {
			continue
		}
		var lt bool
		if numericSortFields[k] {
			xi, _ := strconv.Atoi(x)
			yi, _ := strconv.Atoi(y)
			lt = xi < yi
		} else {
			lt = x < y
		}
		if o.desc[i] {
			return !lt
		}
		return lt
	}
	return false
}
