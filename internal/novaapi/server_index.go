package novaapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// ServerIndex keeps each tenant's cached servers in Nova's default order (created_at, then
// the name, as serverSort breaks ties within a tenant), fed by the informer's events, so a
// page of a list in that order is found by a binary search for its marker and read as the
// next entries: the cost of the page, not of the fleet (server_page.go). It holds the
// informer's own objects, which nobody may change (as the cache's UnsafeDisableDeepCopy).
// A server is in it from its add event to its delete event; a moment behind the informer's
// store, as the store is behind the API server, which the page's check past the cache
// makes up for (consistency_pages.go).
type ServerIndex struct {
	mu     sync.RWMutex
	tenant map[string][]*computev1.Server // ascending
	// unlabelled are the servers without a creation-time label, by tenant and uid: a
	// tenant's page checks list them while it has any (selectorsOf).
	unlabelled map[string]map[types.UID]*computev1.Server
	// changes counts the index's changes by tenant: a page compares it before and after its
	// check (server_page.go).
	changes map[string]uint64
	synced  func() bool
}

// NewServerIndex is an empty index; Watch feeds it.
func NewServerIndex() *ServerIndex {
	return &ServerIndex{tenant: map[string][]*computev1.Server{}, unlabelled: map[string]map[types.UID]*computev1.Server{},
		changes: map[string]uint64{}}
}

// Watch feeds the index from the informers' Server events. Call it before the informers
// start, or at any time after: the informer replays what it holds as adds.
func (x *ServerIndex) Watch(ctx context.Context, informers cache.Informers) error {
	inf, err := informers.GetInformer(ctx, &computev1.Server{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { x.put(obj) },
		UpdateFunc: func(_, obj any) { x.put(obj) },
		DeleteFunc: x.deleted,
	})
	if err != nil {
		return fmt.Errorf("watching servers for the index: %w", err)
	}
	x.mu.Lock()
	x.synced = reg.HasSynced
	x.mu.Unlock()
	return nil
}

// ready says whether the index holds what the informer held when it started; before
// that, pages are found as every other list is.
func (x *ServerIndex) ready() bool {
	if x == nil {
		return false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.synced != nil && x.synced()
}

// compareIndexed orders servers of one tenant as serverSort's created_at ascending, then
// the name.
func compareIndexed(a, b *computev1.Server) int {
	return compareIndexedTo(a, b.CreationTimestamp.Time, b.Name)
}

// compareIndexedTo orders a against a server of the name made at created.
func compareIndexedTo(a *computev1.Server, created time.Time, name string) int {
	if c := a.CreationTimestamp.Compare(created); c != 0 {
		return c
	}
	return strings.Compare(a.Name, name)
}

func (x *ServerIndex) put(obj any) {
	s, ok := obj.(*computev1.Server)
	if !ok {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.changes[s.Namespace]++
	x.noteLabels(s)
	list := x.tenant[s.Namespace]
	i, found := slices.BinarySearchFunc(list, s, compareIndexed)
	if found {
		list[i] = s
		return
	}
	x.tenant[s.Namespace] = slices.Insert(list, i, s)
}

// noteLabels keeps unlabelled up to date with s.
func (x *ServerIndex) noteLabels(s *computev1.Server) {
	if _, ok := s.Labels[computev1.LabelCreated1s]; ok {
		x.forgetLabels(s)
		return
	}
	m := x.unlabelled[s.Namespace]
	if m == nil {
		m = map[types.UID]*computev1.Server{}
		x.unlabelled[s.Namespace] = m
	}
	m[s.UID] = s
}

// hasUnlabelled says whether ns has servers without a creation-time label.
func (x *ServerIndex) hasUnlabelled(ns string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.unlabelled[ns]) > 0
}

func (x *ServerIndex) forgetLabels(s *computev1.Server) {
	if m := x.unlabelled[s.Namespace]; m != nil {
		if delete(m, s.UID); len(m) == 0 {
			delete(x.unlabelled, s.Namespace)
		}
	}
}

// deleted takes out a server the informer deleted, or whose delete it missed (a tombstone
// with the server as last seen).
func (x *ServerIndex) deleted(obj any) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if s, ok := obj.(*computev1.Server); ok {
		x.remove(s)
	}
}

func (x *ServerIndex) remove(s *computev1.Server) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.forgetLabels(s)
	list := x.tenant[s.Namespace]
	i, found := slices.BinarySearchFunc(list, s, compareIndexed)
	if !found || list[i].UID != s.UID {
		return
	}
	x.changes[s.Namespace]++
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(x.tenant, s.Namespace)
		return
	}
	x.tenant[s.Namespace] = list
}

// version is how many times the index of ns has changed.
func (x *ServerIndex) version(ns string) uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.changes[ns]
}

// after is up to n servers of ns that follow at in the order (at itself left out; nil: from
// the start of the order), descending when desc: Nova's default is newest first.
func (x *ServerIndex) after(ns string, at *computev1.Server, desc bool, n int) []*computev1.Server {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return indexedAfter(x.tenant[ns], at, desc, n)
}

// selected are the servers of ns that sel can hold (rules.CreatedSelection.MadeWithin),
// those without the label, and those read past the cache: a superset of what the index and
// reads hold that a LIST of sel names.
func (x *ServerIndex) selected(ns string, sel rules.CreatedSelection, reads *pageReads) []*computev1.Server {
	from, to := sel.MadeWithin()
	x.mu.RLock()
	list := x.tenant[ns]
	start, end := 0, len(list)
	byTime := func(s *computev1.Server, t time.Time) int { return s.CreationTimestamp.Compare(t) }
	if !from.IsZero() {
		start, _ = slices.BinarySearchFunc(list, from, byTime)
	}
	if !to.IsZero() {
		// Past the last server made at to.
		end, _ = slices.BinarySearchFunc(list, to.Add(time.Nanosecond), byTime)
	}
	out := slices.Clone(list[start:max(start, end)])
	for _, s := range x.unlabelled[ns] {
		out = append(out, s)
	}
	x.mu.RUnlock()
	for _, s := range reads.current {
		out = append(out, s)
	}
	return out
}

// indexedAfter is after over one tenant's ascending list.
func indexedAfter(list []*computev1.Server, at *computev1.Server, desc bool, n int) []*computev1.Server {
	var out []*computev1.Server
	if desc {
		end := len(list)
		if at != nil {
			end, _ = slices.BinarySearchFunc(list, at, compareIndexed)
		}
		for i := end - 1; i >= 0 && len(out) < n; i-- {
			out = append(out, list[i])
		}
		return out
	}
	start := 0
	if at != nil {
		var found bool
		if start, found = slices.BinarySearchFunc(list, at, compareIndexed); found {
			start++
		}
	}
	end := min(len(list), start+n)
	return append(out, list[start:end]...)
}
