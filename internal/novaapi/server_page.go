package novaapi

import (
	"context"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// A page of one tenant's servers in creation order (Nova's default, and sort_key=created_at
// either way) with no filter, at the cost of the page: its servers are read from the
// ServerIndex after the marker, their actions by the cache's index on the server's name,
// and the page is checked past the cache by a LIST of the creation seconds it spans
// (consistency_pages.go), the servers of that span the index has compared with what the
// LIST names. Other orders, filters, lists over several tenants and a marker the cache
// has not got are found as before, from every cached server (freshPage).

// indexedOrder says whether a list in this order can be read from the index: created_at
// alone, then the name.
func indexedOrder(order serverSort) bool {
	return len(order.keys) == 2 && order.keys[0] == "created_at" && order.keys[1] == ""
}

// indexFor is the index of ns's servers: the informer-fed one once it has caught up, else
// one made now from the cache (a test's fake cache, or a replica just started).
func (h *handler) indexFor(ctx context.Context, ns string) (*ServerIndex, error) {
	if h.index.ready() {
		return h.index, nil
	}
	cached, err := h.cachedServers(ctx, []string{ns})
	if err != nil {
		return nil, err
	}
	x := NewServerIndex()
	list := make([]*computev1.Server, len(cached))
	for i := range cached {
		list[i] = &cached[i]
		x.noteLabels(list[i])
	}
	slices.SortFunc(list, compareIndexed)
	x.tenant[ns] = list
	return x, nil
}

// cachedByUID is the cached server of ns with the uid, as the cache holds it (not a deep
// copy), or nil; the server uid index names it.
func (h *handler) cachedByUID(ctx context.Context, ns, uid string) (*computev1.Server, error) {
	if h.serverUIDs == nil {
		return nil, nil
	}
	key, ok := h.serverUIDs.Lookup(types.UID(uid))
	if !ok || key.Namespace != ns {
		return nil, nil
	}
	srv := &computev1.Server{}
	if err := h.cache.Get(ctx, key, srv, client.UnsafeDisableDeepCopy); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if string(srv.UID) != uid {
		return nil, nil // gone, and another made under its name
	}
	return srv, nil
}

// pageReads is what one page learnt past the cache, by server name: the server as the API
// server has it, or gone (nil) for the uid that was indexed.
type pageReads struct {
	current map[string]*computev1.Server
	gone    map[string]types.UID
}

func (r *pageReads) put(s *computev1.Server) {
	r.current[s.Name] = s
	delete(r.gone, s.Name)
}

func (r *pageReads) drop(name string, uid types.UID) {
	if c, ok := r.current[name]; ok && c.UID != uid {
		return // another server by that name is current
	}
	delete(r.current, name)
	r.gone[name] = uid
}

// indexedPage is freshPage for a list the index serves (see above). It says false, having
// done nothing, when the marker is not cached: its place is then found as before.
func (h *handler) indexedPage(rq *request, ns string, order serverSort, marker string, limit int, detail bool) ([]byte, bool, error) {
	ctx := rq.ctx
	var at *computev1.Server
	if marker != "" {
		var err error
		if at, err = h.cachedByUID(ctx, ns, marker); err != nil || at == nil {
			return nil, false, err
		}
	}
	idx, err := h.indexFor(ctx, ns)
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	desc := order.desc[0]
	reads := &pageReads{current: map[string]*computev1.Server{}, gone: map[string]types.UID{}}
	rendered := map[string]any{}
	var checked *rules.CreatedSelection
	for attempt := 0; ; attempt++ {
		selected := idx.version(ns)
		page := indexedCandidates(idx, ns, at, desc, limit, reads)
		var last *computev1.Server
		if len(page) > 0 {
			last = page[len(page)-1]
		}
		span := spanOf(order, at, len(page), last, limit, now)
		// The check of the page's span needs only the candidates' creation times: it goes
		// out before their actions are read, and runs while the page is rendered.
		var check *spanCheck
		if checked == nil || !everything(*checked) && (!span.ok || !checked.CoversSpan(span.lo, span.hi)) {
			check = h.startSpanCheck(ctx, idx, ns, span, attempt, now, reads)
		}
		items, gone, err := h.withActions(ctx, page)
		if err != nil {
			return nil, false, err
		}
		if len(gone) > 0 {
			// Servers found gone while their actions were read: the page is chosen again
			// without them, from what the check read too when one went out.
			for _, s := range gone {
				reads.drop(s.Name, s.UID)
			}
			if check != nil {
				if _, err := check.wait(); err != nil {
					return nil, false, err
				}
				for _, s := range gone {
					check.reads.drop(s.Name, s.UID)
				}
				reads, checked = check.reads, &check.sel
			}
			continue
		}
		project(items)
		body, renderErr := h.renderPage(rq, &serverSelection{items: items, span: span}, limit, detail, rendered)
		if check == nil {
			return body, true, renderErr
		}
		changed, err := check.wait()
		if err != nil {
			return nil, false, err
		}
		// The check found the cached copies current by the index as it is after the LIST;
		// if the index changed since the page was chosen from it (a server the informer
		// brought meanwhile), the page is chosen again from it, checked as it now is.
		if !changed && idx.version(ns) == selected {
			return body, true, renderErr
		}
		reads, checked = check.reads, &check.sel
	}
}

// spanCheck is the check of a page's span under way: checkIndexed of sel, into a copy of
// what the page had read past the cache (as serverCheck is a list's).
type spanCheck struct {
	sel     rules.CreatedSelection
	reads   *pageReads
	done    chan struct{}
	changed bool
	err     error
}

// startSpanCheck starts the check of span, the page's attempt-th: every server when the
// span is not one a selection can bound (the last page, or after too many tries), which
// covers the span whatever it is.
func (h *handler) startSpanCheck(ctx context.Context, idx *ServerIndex, ns string, span pageSpan, attempt int, now time.Time, reads *pageReads) *spanCheck {
	want, ok := spanSelection(span, attempt, now)
	if !ok {
		want = rules.CreatedSelection{Label: computev1.LabelCreated1s}
	}
	c := &spanCheck{sel: want, reads: &pageReads{current: maps.Clone(reads.current), gone: maps.Clone(reads.gone)}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.changed, c.err = h.checkIndexed(ctx, idx, ns, c.sel, c.reads)
	}()
	return c
}

// wait is the check's outcome: whether anything was not current.
func (c *spanCheck) wait() (bool, error) {
	<-c.done
	return c.changed, c.err
}

// indexedCandidates are the page's servers: the index's after the marker with what was read
// past the cache in place of their cached copies, in the order, at most limit of them.
func indexedCandidates(idx *ServerIndex, ns string, at *computev1.Server, desc bool, limit int, reads *pageReads) []*computev1.Server {
	// Enough of the index that the page is full after the servers read gone are left out.
	window := idx.after(ns, at, desc, limit+len(reads.gone))
	out := make([]*computev1.Server, 0, len(window)+len(reads.current))
	for _, s := range window {
		if _, read := reads.current[s.Name]; read {
			continue
		}
		if uid, ok := reads.gone[s.Name]; ok && uid == s.UID {
			continue
		}
		out = append(out, s)
	}
	for _, s := range reads.current {
		if at == nil || follows(at, s, desc) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *computev1.Server) int {
		if desc {
			return compareIndexed(b, a)
		}
		return compareIndexed(a, b)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// follows says whether s comes after at in the order.
func follows(at, s *computev1.Server, desc bool) bool {
	c := compareIndexed(s, at)
	if desc {
		return c < 0
	}
	return c > 0
}

// checkIndexed makes what the index and reads hold of the servers sel selects current, from
// a LIST of their versions (consistency_pages.go): a server named with another
// resourceVersion, or not indexed, is read; one indexed in the selection and not named is
// gone. It says whether anything was not current.
func (h *handler) checkIndexed(ctx context.Context, idx *ServerIndex, ns string, sel rules.CreatedSelection, reads *pageReads) (bool, error) {
	selectors, err := selectorsOf(sel, idx.hasUnlabelled(ns))
	if err != nil {
		return false, err
	}
	if everything(sel) {
		selectors = []labels.Selector{labels.Everything()}
	}
	live, err := h.serverVersions(ctx, []string{ns}, selectors)
	if err != nil {
		return false, err
	}
	held := func(s *computev1.Server) bool { return everything(sel) || heldBy(sel, s.Labels) }
	changed := false
	// What the index and reads hold in the selection and the API server does not: gone.
	known := map[string]*computev1.Server{}
	for _, s := range idx.selected(ns, sel, reads) {
		if !held(s) {
			continue
		}
		known[s.Name] = s
		if m, ok := live[client.ObjectKeyFromObject(s)]; !ok || m.UID != s.UID {
			reads.drop(s.Name, s.UID)
			changed = true
		}
	}
	var stale []client.ObjectKey
	for key, m := range live {
		cur := reads.current[key.Name]
		if cur == nil {
			cur = known[key.Name]
		}
		if cur != nil && cur.UID == m.UID && cur.ResourceVersion == m.ResourceVersion {
			continue
		}
		stale = append(stale, key)
	}
	if len(stale) == 0 {
		return changed, nil
	}
	if len(stale) <= maxStaleGets {
		got, err := getAll[computev1.Server](ctx, h, stale)
		if err != nil {
			return false, err
		}
		readAgain(reads, stale, live, got)
		return true, nil
	}
	// One LIST in full is cheaper than a GET each.
	full, err := listEach(ctx, h.live, []string{ns}, selectors, func() *computev1.ServerList { return &computev1.ServerList{} })
	if err != nil {
		return false, err
	}
	var got []computev1.Server
	for _, l := range full {
		got = append(got, l.Items...)
	}
	readAgain(reads, stale, live, got)
	return true, nil
}

// everything says whether a selection has no bound: it stands for every server.
func everything(sel rules.CreatedSelection) bool { return sel.Min == nil && sel.Max == nil }

// readAgain notes in reads the servers read again (got) for the stale ones: a server named
// by the LIST and gone before it was read is gone.
func readAgain(reads *pageReads, stale []client.ObjectKey, live map[client.ObjectKey]ServerVersion, got []computev1.Server) {
	for i := range got {
		reads.put(&got[i])
	}
	read := make(map[string]bool, len(got))
	for i := range got {
		read[got[i].Name] = true
	}
	for _, key := range stale {
		if !read[key.Name] {
			reads.drop(key.Name, live[key].UID)
		}
	}
}
