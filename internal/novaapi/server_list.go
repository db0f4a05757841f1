package novaapi

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// GET /servers and /servers/detail, after Nova's _get_servers: query schema, the filters a
// non-admin may use, status to vm_state/task_state, all_tenants for admins, sort keys,
// marker and limit, and "servers_links" when the page is full.

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

// listedServer is a server in a list, with the state it is shown in (once projected, from
// its actions).
type listedServer struct {
	srv       *computev1.Server
	st        lifecycle.State
	actions   []computev1.ServerAction
	projected bool
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
	body, err := h.freshPage(rq, search, order, marker, limit, detail)
	if err != nil {
		return err
	}
	return rq.encoded(http.StatusOK, body)
}

// serverSelection is one page of a list of servers before it is rendered: every server it
// was chosen from (read again where an action finished on it since), the page's servers and
// the creation times the page spans (consistency_pages.go).
type serverSelection struct {
	all   []computev1.Server
	items []listedServer
	span  pageSpan
}

// lastServer is the last of the items' servers, or nil.
func lastServer(items []listedServer) *computev1.Server {
	if len(items) == 0 {
		return nil
	}
	return items[len(items)-1].srv
}

// selectServers chooses a page: the servers' actions read, their states projected, the
// filters, order, marker and limit applied.
func (h *handler) selectServers(rq *request, search *serverSearch, all []computev1.Server, order serverSort, marker string, limit int, now time.Time) (*serverSelection, error) {
	all, items, err := h.findServers(rq, search, all)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(items, func(i, j int) bool { return order.less(items[i].srv, items[j].srv) })
	var at *computev1.Server
	if marker != "" {
		// Nova pages from the marker's place in the order, whether or not it matches.
		i := slices.IndexFunc(all, func(s computev1.Server) bool { return string(s.UID) == marker })
		if i < 0 {
			return nil, markerNotFound(marker)
		}
		at = &all[i]
		start := sort.Search(len(items), func(i int) bool { return order.less(at, items[i].srv) })
		items = items[start:]
	}
	if len(items) > limit {
		items = items[:limit]
	}
	project(items)
	return &serverSelection{all: all, items: items, span: spanOf(order, at, len(items), lastServer(items), limit, now)}, nil
}

// renderPage is the encoded body of a page of servers (renderServers): made while the
// page's check is in flight, so that a page found current is only written out.
func (h *handler) renderPage(rq *request, sel *serverSelection, limit int, detail bool, rendered map[string]any) ([]byte, error) {
	body, err := h.renderServers(rq, sel, limit, detail, rendered)
	if err != nil {
		return nil, err
	}
	return marshal(body), nil
}

// renderServers is the body of a page of servers. rendered keeps what was rendered, by
// server, version and state, for a page made again from newer copies.
func (h *handler) renderServers(rq *request, sel *serverSelection, limit int, detail bool, rendered map[string]any) (map[string]any, error) {
	servers := make([]any, 0, len(sel.items))
	for _, e := range sel.items {
		if !detail {
			id := string(e.srv.UID)
			servers = append(servers, views.ServerSummary{ID: id, Name: e.srv.DisplayName(), Links: rq.links("servers", id)})
			continue
		}
		key := string(e.srv.UID) + "/" + e.srv.ResourceVersion + "/" + string(e.st.VM) + "/" + string(e.st.Task) + "/" + strconv.Itoa(int(e.st.Power))
		v, ok := rendered[key]
		if !ok {
			var err error
			if v, err = rq.buildServer(e.srv, e.st, serverView{ServerShape: views.ServerShape{Full: true, InList: true}}); err != nil {
				return nil, err
			}
			rendered[key] = v
		}
		servers = append(servers, v)
	}
	last := lastID(sel.items, func(e listedServer) string { return string(e.srv.UID) })
	return rq.listBody("servers", "servers", detail, servers, limit, last), nil
}

// findServers reads the actions of the servers given (consistency.go), projects their
// states and keeps those the filters match. Servers an action finished on after they were
// read are read again, and those found gone then are left out, so all is returned too.
func (h *handler) findServers(rq *request, search *serverSearch, all []computev1.Server) ([]computev1.Server, []listedServer, error) {
	servers := make([]*computev1.Server, len(all))
	for i := range all {
		servers[i] = &all[i]
	}
	listed, gone, err := h.withActions(rq.ctx, servers)
	if err != nil {
		return nil, nil, err
	}
	listed = slices.DeleteFunc(listed, func(e listedServer) bool { return slices.Contains(gone, e.srv) })
	current := make([]computev1.Server, 0, len(listed))
	items := make([]listedServer, 0, len(listed))
	for _, e := range listed {
		current = append(current, *e.srv)
		if len(search.filters) == 0 {
			// Nothing to filter by the state: only the page's servers need one (project).
			items = append(items, e)
			continue
		}
		st := rules.ProjectedState(e.srv, e.actions)
		if !slices.ContainsFunc(search.filters, func(f serverFilter) bool { return !f(e.srv, st) }) {
			items = append(items, listedServer{srv: e.srv, st: st, projected: true})
		}
	}
	return current, items, nil
}

// project gives the servers of a page their state, where findServers left it for later.
func project(items []listedServer) {
	for i := range items {
		if !items[i].projected {
			items[i].st, items[i].projected = rules.ProjectedState(items[i].srv, items[i].actions), true
		}
	}
}
