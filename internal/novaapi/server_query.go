package novaapi

import (
	"slices"
	"strconv"
	"strings"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// How GET /servers reads its query: the parameters Nova knows at a microversion, the
// filters a non-admin may use, and the search options turned into a serverSearch.

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
		search.filters = append(search.filters, func(srv *computev1.Server, _ lifecycle.State) bool { return srv.Status.Locked == locked })
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
