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
// controllers, the webhooks). It also notes when each server last became SHUTOFF with no
// task: the moment any reader of the API server (a REST GET, kubectl) can first see a stop.
type writeWatch struct {
	n     atomic.Int64
	stops []func()

	mu      sync.Mutex
	stopped map[types.UID]offSince
}

// offSince is whether a server shows SHUTOFF with no task, and since when.
type offSince struct {
	off bool
	at  time.Time
}

// note records a server's event.
func (w *writeWatch) note(srv *computev1.Server) {
	off := srv.Status.Status == "SHUTOFF" && srv.Status.TaskState == ""
	w.mu.Lock()
	defer w.mu.Unlock()
	if prev := w.stopped[srv.UID]; off && !prev.off {
		w.stopped[srv.UID] = offSince{off: true, at: time.Now()}
	} else if !off {
		w.stopped[srv.UID] = offSince{}
	}
}

// shutOffAt is when the server with uid became SHUTOFF with no task (zero if it is not).
func (w *writeWatch) shutOffAt(uid string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped[types.UID(uid)].at
}

func watchWrites(ctx context.Context, cfg *rest.Config, ns string) (*writeWatch, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return nil, err
	}
	w := &writeWatch{stopped: map[types.UID]offSince{}}
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
