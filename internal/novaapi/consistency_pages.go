package novaapi

import (
	"context"
	"slices"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// A page of a list of servers, read-your-writes (consistency.go) at the cost of the page,
// not of the fleet. In creation order (Nova's default, created_at desc) a page spans the
// creation times from its marker to its last server, and every server made in that span
// carries a creation-time label (computev1.LabelCreated1s, the second it was made, stamped
// by the admission webhook): a LIST of the versions (server_versions.go) of the range of
// seconds (`created-1s>a,created-1s<b`, whatever the span's length), and, while the tenant has
// servers without the label (made before Kova stamped it: no update can take it away), one
// of those, name every server that can be on the page, with its resourceVersion, as the
// API server has it now. The page is chosen from the cache; the cached copies in the range
// are kept when current, read again when not, dropped when gone, and the servers the cache
// has not got are read. When that changes the page so that it spans more than was listed
// (servers gone from it, say), the new span is listed in turn. A server outside the range
// cannot be on the page, so its cached copy, stale or not, changes nothing shown. One
// tenant's list in creation order with no filter is chosen from the ServerIndex
// (server_page.go); other lists sort every cached server. A page that spans everything
// (the only one) and a marker the cache has not got are checked against a LIST of every
// server.

// pageSpan is the creation times a page of servers in creation order spans: from lo (zero:
// from the first server made) to hi. ok is false for a page in another order, or one that
// spans everything.
type pageSpan struct {
	lo, hi time.Time
	ok     bool
}

// maxSpanChecks bounds how many spans one list checks before it checks every server.
const maxSpanChecks = 3

// spanSelection is the selection that checks span on a list's attempt-th try; false when
// every server is to be checked instead: a span no selection bounds (the last page, or
// one holding every server), or after maxSpanChecks tries.
func spanSelection(span pageSpan, attempt int, now time.Time) (rules.CreatedSelection, bool) {
	if !span.ok || attempt >= maxSpanChecks {
		return rules.CreatedSelection{}, false
	}
	return rules.CreatedSelectionFor(span.lo, span.hi, now)
}

// spanOf is the span of a page of n servers ending with last: from the marker (or, first in
// the order, now) to its last server, or to the end of the order when the page is not full
// (nothing more follows).
func spanOf(order serverSort, marker *computev1.Server, n int, last *computev1.Server, limit int, now time.Time) pageSpan {
	if len(order.keys) == 0 || order.keys[0] != "created_at" || limit == 0 {
		return pageSpan{}
	}
	full := n == limit
	var lastAt time.Time
	if last != nil {
		lastAt = last.CreationTimestamp.Time
	}
	var from time.Time // where the page starts in the order; zero: at its start
	if marker != nil {
		from = marker.CreationTimestamp.Time
	}
	if order.desc[0] {
		sp := pageSpan{hi: now, ok: true}
		if marker != nil {
			sp.hi = from
		}
		if full {
			sp.lo = lastAt
		}
		sp.ok = !sp.lo.IsZero() || marker != nil
		return sp
	}
	sp := pageSpan{lo: from, hi: now, ok: true}
	if full {
		sp.hi = lastAt
	}
	sp.ok = !sp.lo.IsZero() || full
	return sp
}

// freshPage is the body of a page of servers as the API server has them now (see above).
func (h *handler) freshPage(rq *request, search *serverSearch, order serverSort, marker string, limit int, detail bool) ([]byte, error) {
	if len(search.filters) == 0 && len(search.namespaces) == 1 && search.namespaces[0] != "" && indexedOrder(order) && limit > 0 {
		body, ok, err := h.indexedPage(rq, search.namespaces[0], order, marker, limit, detail)
		if ok || err != nil {
			return body, err
		}
	}
	now := time.Now()
	current, err := h.cachedServers(rq.ctx, search.namespaces)
	if err != nil {
		return nil, err
	}
	rendered := map[string]any{}
	var checked *rules.CreatedSelection
	all := false // current was checked in full
	for attempt := 0; ; attempt++ {
		if !all && marker != "" && !slices.ContainsFunc(current, func(s computev1.Server) bool { return string(s.UID) == marker }) {
			// A marker made through another replica a moment ago: its place is unknown.
			if current, err = h.checkAll(rq.ctx, search.namespaces, current); err != nil {
				return nil, err
			}
			all = true
		}
		sel, err := h.selectServers(rq, search, current, order, marker, limit, now)
		if err != nil {
			return nil, err
		}
		if all || checked != nil && checked.CoversSpan(sel.span.lo, sel.span.hi) {
			return h.renderPage(rq, sel, limit, detail, rendered)
		}
		want, ok := spanSelection(sel.span, attempt, now)
		if !ok {
			if current, err = h.checkAll(rq.ctx, search.namespaces, current); err != nil {
				return nil, err
			}
			all = true
			continue
		}
		// The page is rendered from what was chosen while the LIST is in flight; only when
		// something listed was not current is it chosen and rendered again.
		type result struct {
			servers []computev1.Server
			changed bool
			err     error
		}
		done := make(chan result, 1)
		go func() {
			s, changed, err := h.checkSelection(rq.ctx, search.namespaces, current, want)
			done <- result{s, changed, err}
		}()
		body, renderErr := h.renderPage(rq, sel, limit, detail, rendered)
		res := <-done
		if res.err != nil {
			return nil, res.err
		}
		if !res.changed {
			return body, renderErr
		}
		current, checked = res.servers, &want
	}
}

// checkAll makes every server of namespaces current, from a LIST of all their versions.
func (h *handler) checkAll(ctx context.Context, namespaces []string, cached []computev1.Server) ([]computev1.Server, error) {
	current, _, err := h.checkServers(ctx, namespaces).wait(ctx, h, cached)
	return current, err
}

// selectorsOf are the label selectors of a selection: the range itself and, if unlabelled,
// the servers without the label, which no range holds. A server keeps its labels from its
// creation on (the Server webhook puts back any that an update takes away), so the only
// servers without them are ones made before Kova stamped them, and the cache has them:
// unlabelled says whether it has any in the namespaces listed. Without them, a page's
// check scans the tenant's servers once, not twice.
func selectorsOf(sel rules.CreatedSelection, unlabelled bool) ([]labels.Selector, error) {
	in := labels.NewSelector()
	for _, b := range []struct {
		bound *int64
		op    selection.Operator
		by    int64
	}{{sel.Min, selection.GreaterThan, -1}, {sel.Max, selection.LessThan, 1}} {
		if b.bound == nil {
			continue
		}
		r, err := labels.NewRequirement(sel.Label, b.op, []string{strconv.FormatInt(*b.bound+b.by, 10)})
		if err != nil {
			return nil, err
		}
		in = in.Add(*r)
	}
	if !unlabelled {
		return []labels.Selector{in}, nil
	}
	none, err := labels.NewRequirement(sel.Label, selection.DoesNotExist, nil)
	if err != nil {
		return nil, err
	}
	return []labels.Selector{in, labels.NewSelector().Add(*none)}, nil
}

// heldBy says whether a server with these labels is in what selectorsOf(sel) lists.
func heldBy(sel rules.CreatedSelection, l map[string]string) bool {
	_, has := l[sel.Label]
	return sel.Holds(l) || !has
}

// listEach runs one LIST per namespace and selector at once, into a fresh list from mk each,
// and returns them.
func listEach[L client.ObjectList](ctx context.Context, r client.Reader, namespaces []string, selectors []labels.Selector, mk func() L) ([]L, error) {
	return eachSelected(namespaces, selectors, func(ns string, sel labels.Selector) (L, error) {
		l := mk()
		return l, r.List(ctx, l, append(inNamespace(ns), client.MatchingLabelsSelector{Selector: sel})...)
	})
}

// eachSelected runs fn once per namespace and selector, all at once, and returns what each
// returned, in that order, and the first error.
func eachSelected[T any](namespaces []string, selectors []labels.Selector, fn func(ns string, sel labels.Selector) (T, error)) ([]T, error) {
	type job struct {
		ns  string
		sel labels.Selector
	}
	var jobs []job
	for _, ns := range namespaces {
		for _, s := range selectors {
			jobs = append(jobs, job{ns, s})
		}
	}
	out := make([]T, len(jobs))
	errs := make(chan error, len(jobs))
	for i, j := range jobs {
		go func() {
			var err error
			out[i], err = fn(j.ns, j.sel)
			errs <- err
		}()
	}
	var first error
	for range jobs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return out, first
}

// checkSelection makes the cached servers sel holds current (see the top of this file) and
// says whether any was not.
func (h *handler) checkSelection(ctx context.Context, namespaces []string, cached []computev1.Server, sel rules.CreatedSelection) ([]computev1.Server, bool, error) {
	selectors, err := selectorsOf(sel, slices.ContainsFunc(cached, func(s computev1.Server) bool {
		_, ok := s.Labels[sel.Label]
		return !ok
	}))
	if err != nil {
		return nil, false, err
	}
	live, err := h.serverVersions(ctx, namespaces, selectors)
	if err != nil {
		return nil, false, err
	}
	out := make([]computev1.Server, 0, len(cached)+len(live))
	var stale []client.ObjectKey
	changed := false
	for i := range cached {
		c := &cached[i]
		if !heldBy(sel, c.Labels) {
			out = append(out, *c)
			continue
		}
		key := client.ObjectKeyFromObject(c)
		v, ok := live[key]
		delete(live, key)
		switch {
		case ok && v.ResourceVersion == c.ResourceVersion:
			out = append(out, *c)
		case ok:
			stale = append(stale, key)
		default:
			changed = true // gone, or no longer in the selection
		}
	}
	for key := range live {
		stale = append(stale, key) // not cached yet
	}
	if len(stale) == 0 {
		return out, changed, nil
	}
	out, err = h.reread(ctx, out, stale, namespaces, selectors, func(s *computev1.Server) bool { return heldBy(sel, s.Labels) })
	return out, err == nil, err
}
