// Package manifests builds Kova's install manifests (config/default, or any kustomization
// under config/) with the kustomize Go API, as `kustomize build` would, so the tests and
// the local stacks use the very objects `make deploy` applies.
package manifests

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Build runs kustomize on the kustomization in dir and returns its objects in kustomize's
// order.
func Build(dir string) ([]*unstructured.Unstructured, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range resources.Resources() {
		// Through JSON, so numbers are int64 and float64 as the apimachinery helpers expect.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// Select returns the objects of the given kinds, kind by kind in the order given (so that,
// say, a Namespace comes before what lives in it), each kind's in build order.
func Select(objs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, k := range kinds {
		for _, o := range objs {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}
