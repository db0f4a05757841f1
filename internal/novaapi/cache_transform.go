package novaapi

import (
	toolscache "k8s.io/client-go/tools/cache"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/cachetrim"
)

// CacheTransform is what nova-api's informer cache keeps of an object (its
// cache.Options.DefaultTransform): cachetrim's interned copy, and of a Server not its
// conditions. Those are the controller's account of its own work for kubectl; nothing Nova
// answers reads them (its states, task and fault have status fields of their own), and
// nova-api writes a Server only by patches computed against the cached copy, which leave
// fields absent from both sides alone. Each call has interning tables of its own.
func CacheTransform() toolscache.TransformFunc {
	trim := cachetrim.TransformInterned()
	return func(in any) (any, error) {
		// Only set when present, as cachetrim does: an object may be transformed again.
		if srv, ok := in.(*computev1.Server); ok && srv.Status.Conditions != nil {
			srv.Status.Conditions = nil
		}
		return trim(in)
	}
}
