package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// The networking service's read API (Neutron v2.0: networks, subnets, ports), over the
// same Network objects and server addresses the compute API shows, so that clients which
// resolve names through it (the openstack CLI's --network NAME, `network list`, `port list
// --server`) work. It is read-only: Kova's networks are made through os-networksv2 or
// kubectl. Like the compute API it reads what a client may have just written from the API
// server (networks and the servers behind ports), not from the cache.

// Bounds on what one request may ask: values of one filter, sort keys, and a page.
const (
	maxFilterValues   = 100
	maxSortKeys       = 10
	maxNetworkingPage = 1000
)

// networking serves the networking API for the Caller in the request's context.
type networking struct {
	h *handler
}

// Networking returns the networking service's handler; it serves paths relative to
// /v2.0 (/networks, /ports/{id}, ...).
func Networking(cfg Config) http.Handler { return &networking{h: newHandler(cfg)} }

// neutronCollection is one resource the API lists: how to read every item the tenant sees,
// and its words for an item that is not there.
type neutronCollection struct {
	list     func(ctx context.Context, caller Caller, q url.Values) ([]map[string]any, error)
	notFound string // Neutron's error type, e.g. NetworkNotFound
	noun     string // its message's noun, e.g. Network
	key      string // an item's key in a show's body; default the noun in lower case
	missing  string // the not-found message's format (noun, id); default "%s %s could not be found."
	// write serves POST, PUT and DELETE (segs: the collection, and the id if any); nil
	// means the collection is read-only.
	write func(ctx context.Context, w http.ResponseWriter, caller Caller, method string, segs []string, body []byte)
}

func (nw *networking) collections() map[string]neutronCollection {
	return map[string]neutronCollection{
		"networks": {list: nw.networks, notFound: "NetworkNotFound", noun: "Network"},
		"subnets":  {list: nw.subnets, notFound: "SubnetNotFound", noun: "Subnet"},
		"ports":    {list: nw.ports, notFound: "PortNotFound", noun: "Port"},
		"security-groups": {list: nw.securityGroups, notFound: "SecurityGroupNotFound", noun: "Security group",
			key: "security_group", missing: "%s %s does not exist", write: nw.writeSecurityGroup},
		"security-group-rules": {list: nw.securityGroupRules, notFound: "SecurityGroupRuleNotFound", noun: "Security group rule",
			key: "security_group_rule", missing: "%s %s does not exist", write: nw.writeSecurityGroupRule},
		"floatingips": {list: nw.floatingIPs, notFound: "FloatingIPNotFound", noun: "Floating IP",
			key: "floatingip", write: nw.writeFloatingIP},
	}
}

func (nw *networking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := "req-" + uuid.NewString()
	w.Header().Set("X-Openstack-Request-Id", id)
	caller, ok := CallerFrom(r.Context())
	if !ok || caller.User == nil {
		WriteNeutronError(w, http.StatusUnauthorized, "", msgUnauthorized)
		return
	}
	caller.Root = strings.TrimRight(caller.Root, "/")
	ctx := log.IntoContext(r.Context(), log.FromContext(r.Context()).WithValues("requestID", id, "tenant", caller.Tenant))
	segs := splitPath(r.URL.Path)
	if len(segs) == 1 && segs[0] == "extensions" {
		if r.Method != http.MethodGet {
			WriteNeutronError(w, http.StatusMethodNotAllowed, "", "The method is not allowed on this resource.")
			return
		}
		// No extension is advertised: the CLI then asks only what the core API answers.
		writeJSON(w, http.StatusOK, map[string]any{"extensions": []any{}})
		return
	}
	if segs[0] == "quotas" && len(segs) == 2 && r.Method == http.MethodGet {
		nw.showQuota(ctx, w, caller, segs[1])
		return
	}
	col, ok := nw.collections()[segs[0]]
	if !ok || len(segs) > 2 {
		WriteNeutronError(w, http.StatusNotFound, "", msgResourceNotFound)
		return
	}
	if r.Method != http.MethodGet && col.write != nil {
		nw.serveWrite(ctx, w, r, caller, col, segs)
		return
	}
	if r.Method != http.MethodGet {
		WriteNeutronError(w, http.StatusMethodNotAllowed, "", "Kova's networks are read-only here: "+
			"make networks with os-networksv2 or kubectl.")
		return
	}
	q := r.URL.Query()
	if len(segs) == 2 {
		nw.show(ctx, w, caller, col, segs[1], q)
		return
	}
	nw.list(ctx, w, caller, col, segs[0], q)
}

func (nw *networking) fail(ctx context.Context, w http.ResponseWriter, err error) {
	if ne, ok := err.(*neutronError); ok {
		WriteNeutronError(w, ne.code, ne.typ, ne.message)
		return
	}
	ae := asAPIError(err)
	if ae.code >= 500 {
		log.FromContext(ctx).Error(err, "Failed networking API request")
	}
	WriteNeutronError(w, ae.code, "", ae.message)
}

func (nw *networking) show(ctx context.Context, w http.ResponseWriter, caller Caller, col neutronCollection, id string, q url.Values) {
	items, err := col.list(ctx, caller, url.Values{"id": {id}})
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	for _, it := range items {
		if it["id"] == id {
			out, err := projectFields(it, q["fields"])
			if err != nil {
				nw.fail(ctx, w, err)
				return
			}
			key := col.key
			if key == "" {
				key = strings.ToLower(col.noun)
			}
			writeJSON(w, http.StatusOK, map[string]any{key: out})
			return
		}
	}
	missing := col.missing
	if missing == "" {
		missing = "%s %s could not be found."
	}
	WriteNeutronError(w, http.StatusNotFound, col.notFound, fmt.Sprintf(missing, col.noun, id))
}

func (nw *networking) list(ctx context.Context, w http.ResponseWriter, caller Caller, col neutronCollection, name string, q url.Values) {
	items, err := col.list(ctx, caller, q)
	if err == nil {
		items, err = filterItems(items, q)
	}
	if err == nil {
		err = sortItems(items, q)
	}
	var links []link
	if err == nil {
		items, links, err = pageItems(items, q, caller.Root+"/"+name, col)
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if err != nil {
			break
		}
		var p map[string]any
		if p, err = projectFields(it, q["fields"]); err == nil {
			out = append(out, p)
		}
	}
	if err != nil {
		nw.fail(ctx, w, err)
		return
	}
	// The body's keys are the collection's with underscores (security_groups).
	key := strings.ReplaceAll(name, "-", "_")
	body := map[string]any{key: out}
	if len(links) > 0 {
		body[key+"_links"] = links
	}
	writeJSON(w, http.StatusOK, body)
}

// networks are the tenant's networks and the shared ones, as the API server has them now.
func (nw *networking) networks(ctx context.Context, caller Caller, _ url.Values) ([]map[string]any, error) {
	return nw.eachNetwork(ctx, caller, views.NeutronNetwork)
}

// subnets are one per network: its CIDR.
func (nw *networking) subnets(ctx context.Context, caller Caller, _ url.Values) ([]map[string]any, error) {
	return nw.eachNetwork(ctx, caller, views.NeutronSubnet)
}

func (nw *networking) eachNetwork(ctx context.Context, caller Caller, view func(*computev1.Network) map[string]any) ([]map[string]any, error) {
	nets, err := nw.h.visibleNetworks(ctx, caller.Tenant)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(nets))
	for i := range nets {
		out = append(out, view(&nets[i]))
	}
	return out, nil
}

// ports are one per fixed address a server of the tenant holds. A query naming servers
// (device_id, as `port list --server` sends) reads just those, each with a GET.
func (nw *networking) ports(ctx context.Context, caller Caller, q url.Values) ([]map[string]any, error) {
	nets, err := nw.h.visibleNetworks(ctx, caller.Tenant)
	if err != nil {
		return nil, err
	}
	byRef := map[string]*computev1.Network{}
	for i := range nets {
		byRef[nets[i].Namespace+"/"+nets[i].Name] = &nets[i]
	}
	var srvs []computev1.Server
	if ids := q["device_id"]; len(ids) > 0 {
		if len(ids) > maxFilterValues {
			return nil, tooManyValues("device_id")
		}
		for _, id := range ids {
			srv := &computev1.Server{}
			ok, err := nw.h.byUID(ctx, srv, caller.Tenant, id)
			if err != nil {
				return nil, err
			}
			if ok {
				srvs = append(srvs, *srv)
			}
		}
	} else {
		var list computev1.ServerList
		if err := nw.h.live.List(ctx, &list, client.InNamespace(caller.Tenant)); err != nil {
			return nil, err
		}
		srvs = list.Items
	}
	var out []map[string]any
	for i := range srvs {
		srv := &srvs[i]
		for _, a := range srv.Status.Addresses {
			n := byRef[a.NetworkNamespace+"/"+a.NetworkName]
			if a.Type == "floating" || n == nil {
				continue
			}
			out = append(out, views.NeutronPort(srv, n, a))
		}
	}
	return out, nil
}

// neutronError is an answer in Neutron's words: its error type and message.
type neutronError struct {
	code         int
	typ, message string
}

func (e *neutronError) Error() string { return e.message }

func invalidInput(format string, args ...any) *neutronError {
	return &neutronError{code: http.StatusBadRequest, typ: "InvalidInput",
		message: "Invalid input for operation: " + fmt.Sprintf(format, args...)}
}

func tooManyValues(key string) *neutronError {
	return invalidInput("at most %d values of %s are allowed.", maxFilterValues, key)
}

// notFilters are the query parameters that are not attribute filters.
var notFilters = map[string]bool{"fields": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true, "page_reverse": true}

// filterItems keeps the items whose attributes match every filter of q, as Neutron
// filters: a filter on an attribute the resource does not have is refused; an attribute
// matches any of its filter's values; a list attribute matches when it holds one of them.
func filterItems(items []map[string]any, q url.Values) ([]map[string]any, error) {
	known := knownAttributes()
	for key, vals := range q {
		if notFilters[key] {
			continue
		}
		if !known[key] {
			return nil, &neutronError{code: http.StatusBadRequest, typ: "HTTPBadRequest",
				message: fmt.Sprintf("['%s'] is invalid attribute for filtering", key)}
		}
		if len(vals) > maxFilterValues {
			return nil, tooManyValues(key)
		}
	}
	var out []map[string]any
	for _, it := range items {
		keep := true
		for key, vals := range q {
			if notFilters[key] {
				continue
			}
			ok, err := attributeMatches(it[key], vals)
			if err != nil {
				return nil, err
			}
			if !ok {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, it)
		}
	}
	return out, nil
}

func attributeMatches(v any, vals []string) (bool, error) {
	for _, want := range vals {
		switch a := v.(type) {
		case bool:
			b, err := strconv.ParseBool(want)
			if err != nil {
				return false, invalidInput("'%s' cannot be converted to boolean", want)
			}
			if a == b {
				return true, nil
			}
		case []string:
			for _, e := range a {
				if e == want {
					return true, nil
				}
			}
		case []map[string]string: // fixed_ips=ip_address=10.0.0.2 or subnet_id=...
			k, val, _ := strings.Cut(want, "=")
			for _, e := range a {
				if e[k] == val {
					return true, nil
				}
			}
		case nil:
			if want == "" {
				return true, nil
			}
		default:
			if fmt.Sprint(a) == want {
				return true, nil
			}
		}
	}
	return false, nil
}

// knownAttributes are the attribute names of every resource, from their views.
func knownAttributes() map[string]bool {
	known := map[string]bool{}
	n := &computev1.Network{Spec: computev1.NetworkSpec{CIDR: "10.0.0.0/24"}}
	g := &computev1.SecurityGroup{}
	none := func(string) *computev1.SecurityGroup { return nil }
	for _, m := range []map[string]any{views.NeutronNetwork(n), views.NeutronSubnet(n),
		views.NeutronPort(&computev1.Server{}, n, computev1.ServerAddress{}), views.NeutronSecurityGroup(g, none),
		views.NeutronSecurityGroupRule(g, computev1.SecurityGroupRule{}, none),
		views.NeutronFloatingIP(&computev1.FloatingIP{}, "", "", "")} {
		for k := range m {
			known[k] = true
		}
	}
	return known
}

// sortItems orders items by sort_key / sort_dir (Neutron's), else by id, so that pages
// are stable.
func sortItems(items []map[string]any, q url.Values) error {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if len(keys) > maxSortKeys {
		return invalidInput("at most %d sort keys are allowed.", maxSortKeys)
	}
	known := knownAttributes()
	for _, k := range keys {
		if !known[k] {
			return &neutronError{code: http.StatusBadRequest, typ: "HTTPBadRequest",
				message: fmt.Sprintf("%s is an invalid attribute for sort_key", k)}
		}
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return &neutronError{code: http.StatusBadRequest, typ: "HTTPBadRequest",
				message: fmt.Sprintf("%s is an invalid value for sort_dir, valid value is 'asc' or 'desc'", d)}
		}
	}
	keys = append(keys, "id")
	sort.SliceStable(items, func(i, j int) bool {
		for n, k := range keys {
			a, b := fmt.Sprint(items[i][k]), fmt.Sprint(items[j][k])
			if a == b {
				continue
			}
			if n < len(dirs) && dirs[n] == "desc" {
				return a > b
			}
			return a < b
		}
		return false
	})
	return nil
}

// pageItems cuts the page limit and marker ask for, with a next link when more follow.
func pageItems(items []map[string]any, q url.Values, self string, col neutronCollection) ([]map[string]any, []link, error) {
	if m := q.Get("marker"); m != "" {
		i := 0
		for i < len(items) && items[i]["id"] != m {
			i++
		}
		if i == len(items) {
			return nil, nil, &neutronError{code: http.StatusNotFound, typ: col.notFound,
				message: fmt.Sprintf("%s %s could not be found.", col.noun, m)}
		}
		items = items[i+1:]
	}
	limit := maxNetworkingPage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return nil, nil, invalidInput("Bad limit request: limit must be a non-negative integer.")
		}
		if n > 0 {
			limit = min(n, maxNetworkingPage)
		}
	}
	if len(items) <= limit {
		return items, nil, nil
	}
	items = items[:limit]
	next := url.Values{}
	for k, v := range q {
		if k != "marker" {
			next[k] = v
		}
	}
	next.Set("limit", strconv.Itoa(limit))
	next.Set("marker", fmt.Sprint(items[len(items)-1]["id"]))
	return items, []link{{Href: self + "?" + next.Encode(), Rel: "next"}}, nil
}

// projectFields keeps only the fields asked for (Neutron's `fields`), all when none are.
func projectFields(it map[string]any, fields []string) (map[string]any, error) {
	if len(fields) == 0 {
		return it, nil
	}
	if len(fields) > len(it)+maxFilterValues {
		return nil, tooManyValues("fields")
	}
	out := map[string]any{}
	for _, f := range fields {
		if v, ok := it[f]; ok {
			out[f] = v
		}
	}
	return out, nil
}
