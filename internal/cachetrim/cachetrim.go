// Package cachetrim keeps informer caches small. The manager and nova-api each cache every
// Server (and the other kinds) they read; an object's managedFields and kubectl's
// last-applied-configuration annotation are often larger than the rest of it, and neither
// binary reads them, so they are dropped before an object enters a cache. A write made from
// a cached object is a patch computed against that same trimmed copy, so it never touches
// the dropped fields.
package cachetrim

import (
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
)

// LastAppliedAnnotation is the copy of the last applied manifest `kubectl apply` keeps.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Transform drops managedFields and the last-applied annotation from an object on its way
// into a cache (controller-runtime cache.Options.DefaultTransform).
func Transform() toolscache.TransformFunc { return transform(nil) }

// TransformInterned is Transform, and makes each object's strings and string maps share one
// copy with the equal ones of the objects before it (interner). Each call has tables of its
// own: use one per cache. nova-api's cache and the manager's use it.
func TransformInterned() toolscache.TransformFunc { return transform(newInterner()) }

func transform(strs *interner) toolscache.TransformFunc {
	return func(in any) (any, error) {
		obj, err := meta.Accessor(in)
		if err != nil {
			return in, nil //nolint:nilerr // not an object (a tombstone): keep it as it is
		}
		// Only set when present: setting nil on an object that has none allocates nothing
		// but would race with readers of shared objects (kubernetes#124337).
		if obj.GetManagedFields() != nil {
			obj.SetManagedFields(nil)
		}
		if a := obj.GetAnnotations(); a != nil {
			if _, ok := a[LastAppliedAnnotation]; ok {
				trimmed := make(map[string]string, len(a)-1)
				for k, v := range a {
					if k != LastAppliedAnnotation {
						trimmed[k] = v
					}
				}
				obj.SetAnnotations(trimmed)
			}
		}
		if strs != nil {
			strs.object(in)
		}
		return in, nil
	}
}
