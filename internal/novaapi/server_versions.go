package novaapi

import (
	"context"
	"errors"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// ServerVersion is what a check past the cache (consistency.go) needs of a server as the
// API server has it: which server it is, and which write of it.
type ServerVersion struct {
	Name            string
	UID             types.UID
	ResourceVersion string
}

// ServerVersionLister lists the versions of a namespace's servers that a selector matches,
// in one consistent read. nova-api's reading client (internal/novaserver) is one: it asks
// kube-apiserver for the Servers' table without the objects, whose ID and Resource Version
// columns are all a check reads. A metadata-only LIST says the same, but kube-apiserver
// builds it by converting every server's managed fields, most of the LIST's cost. The
// metadata is what is asked of a reader that is not one (a test's fake client), and for
// every namespace at once, which a table without the objects cannot tell apart.
//
// A lister says ErrNoVersionColumns when the Server CRD installed has not got the columns
// (one older than nova-api, in the middle of an upgrade): the metadata is asked instead.
type ServerVersionLister interface {
	ListServerVersions(ctx context.Context, ns string, sel labels.Selector) ([]ServerVersion, error)
}

// ErrNoVersionColumns: the Servers' table has not got the columns a ServerVersionLister reads.
var ErrNoVersionColumns = errors.New("the Server CRD's table has no ID and Resource Version columns")

// serverVersions runs one LIST per namespace ("" for all) and selector at once, and returns
// the versions they name.
func (h *handler) serverVersions(ctx context.Context, namespaces []string, selectors []labels.Selector) (map[client.ObjectKey]ServerVersion, error) {
	vl, tables := h.live.(ServerVersionLister)
	lists, err := eachSelected(namespaces, selectors, func(ns string, sel labels.Selector) (map[client.ObjectKey]ServerVersion, error) {
		return h.listVersions(ctx, vl, tables && ns != "", ns, sel)
	})
	if err != nil {
		return nil, err
	}
	live := map[client.ObjectKey]ServerVersion{}
	for _, l := range lists {
		maps.Copy(live, l)
	}
	return live, nil
}

// listVersions is one LIST of serverVersions: by the table when it can be, else the metadata.
func (h *handler) listVersions(ctx context.Context, vl ServerVersionLister, table bool, ns string, sel labels.Selector) (map[client.ObjectKey]ServerVersion, error) {
	if table {
		l, err := vl.ListServerVersions(ctx, ns, sel)
		if err == nil {
			out := make(map[client.ObjectKey]ServerVersion, len(l))
			for _, v := range l {
				out[client.ObjectKey{Namespace: ns, Name: v.Name}] = v
			}
			return out, nil
		}
		if !errors.Is(err, ErrNoVersionColumns) {
			return nil, err
		}
	}
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(computev1.GroupVersion.WithKind("ServerList"))
	if err := h.live.List(ctx, l, append(inNamespace(ns), client.MatchingLabelsSelector{Selector: sel})...); err != nil {
		return nil, err
	}
	out := make(map[client.ObjectKey]ServerVersion, len(l.Items))
	for i := range l.Items {
		m := &l.Items[i]
		out[client.ObjectKeyFromObject(m)] = ServerVersion{Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion}
	}
	return out, nil
}
