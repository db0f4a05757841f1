package novaapi

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// Cache indexes. Nova ids are uids, so every show looks an object up by uid (a server's by
// Config.ServerUIDs, the few images' and networks' by a field index); a server's actions
// are found by the server they name.
const (
	indexUID        = ".metadata.uid"
	indexServerName = ".spec.serverName"
	// indexFloatingServer finds the floating IPs that point at a server.
	indexFloatingServer = ".spec.server"
	// indexImageMember finds the images shared with a tenant: an Image by each member.
	indexImageMember = ".spec.members.project"
)

type fieldIndex struct {
	obj   client.Object
	field string
	fn    client.IndexerFunc
}

func uidOf(o client.Object) []string { return []string{string(o.GetUID())} }

// fieldIndexes are the indexes New relies on; tests register the same ones on a fake
// client.
func fieldIndexes() []fieldIndex {
	return []fieldIndex{
		{&computev1.Image{}, indexUID, uidOf},
		{&computev1.Network{}, indexUID, uidOf},
		{&computev1.Image{}, indexImageMember, func(o client.Object) []string {
			var out []string
			for _, m := range o.(*computev1.Image).Spec.Members {
				out = append(out, m.Project)
			}
			return out
		}},
		{&computev1.ServerAction{}, indexServerName, func(o client.Object) []string {
			return []string{o.(*computev1.ServerAction).Spec.ServerName}
		}},
		{&computev1.FloatingIP{}, indexFloatingServer, func(o client.Object) []string {
			if s := o.(*computev1.FloatingIP).Spec.Server; s != "" {
				return []string{s}
			}
			return nil
		}},
		// The API server answers the same selector on its selectable field. A group is
		// never asked for by an empty name, so a server in none (nearly all) has no entry.
		{&computev1.Server{}, rules.FieldServerGroup, func(o client.Object) []string {
			if g := o.(*computev1.Server).Spec.ServerGroup; g != "" {
				return []string{g}
			}
			return nil
		}},
	}
}

// IndexFields registers the cache indexes New relies on: Image and Network by
// metadata.uid, Image by its members, ServerAction by spec.serverName, FloatingIP by spec.server. Call it on the cache given to New before
// the cache starts.
func IndexFields(ctx context.Context, idx client.FieldIndexer) error {
	for _, fi := range fieldIndexes() {
		if err := idx.IndexField(ctx, fi.obj, fi.field, fi.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", fi.obj, fi.field, err)
		}
	}
	return nil
}
