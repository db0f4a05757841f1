package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// writeWatch counts the writes to a tenant's Servers and ServerActions that land (every
// watch event is one): what a stop costs the API server, whoever writes (the shim, the
// controllers, the webhooks). It also notes when each server came to show its status
// with no task, the moment any reader of the API server (a REST GET, kubectl) can first
// see it: a client that needs no polls to find out.
type writeWatch struct {
	n     atomic.Int64
	stops []func()

	mu      sync.Mutex
	shown   map[types.UID]shownSince
	changed chan struct{} // closed and replaced at every change of shown
}

// shownSince is the status a server shows with no task ("" while a task runs), and since
// when.
type shownSince struct {
	status string
	at     time.Time
}

// note records a server's event.
func (w *writeWatch) note(srv *computev1.Server) {
	status := srv.Status.Status
	if srv.Status.TaskState != "" {
		status = ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shown[srv.UID].status != status {
		w.shown[srv.UID] = shownSince{status: status, at: time.Now()}
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

// untilShown waits until the watch has seen the server with uid show status with no task,
// having come to it after since, and returns when it did.
func (w *writeWatch) untilShown(ctx context.Context, uid, status string, since time.Time) (time.Time, error) {
	for {
		w.mu.Lock()
		got, changed := w.shown[types.UID(uid)], w.changed
		w.mu.Unlock()
		if got.status == status && got.at.After(since) {
			return got.at, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

func watchWrites(ctx context.Context, cfg *rest.Config, ns string) (*writeWatch, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return nil, err
	}
	w := &writeWatch{shown: map[types.UID]shownSince{}, changed: make(chan struct{})}
	for _, list := range []client.ObjectList{&computev1.ServerList{}, &computev1.ServerActionList{}} {
		wi, err := c.Watch(ctx, list, client.InNamespace(ns))
		if err != nil {
			w.stop()
			return nil, err
		}
		w.stops = append(w.stops, wi.Stop)
		go func() {
			for ev := range wi.ResultChan() {
				if ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted {
					w.n.Add(1)
				}
				if srv, ok := ev.Object.(*computev1.Server); ok && ev.Type != watch.Deleted {
					w.note(srv)
				}
			}
		}()
	}
	return w, nil
}

func (w *writeWatch) stop() {
	for _, s := range w.stops {
		s()
	}
}
