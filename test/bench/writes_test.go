package bench

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// writeWatch counts the writes to a tenant's Servers and ServerActions that land (every
// watch event is one): what a stop costs the API server, whoever writes (the shim, the
// controllers, the webhooks).
type writeWatch struct {
	n     atomic.Int64
	stops []func()
}

func watchWrites(ctx context.Context, cfg *rest.Config, ns string) (*writeWatch, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return nil, err
	}
	w := &writeWatch{}
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
