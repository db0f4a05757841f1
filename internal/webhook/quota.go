package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/refs"
)

// QuotaGate is where admission asks the tenant's quota: a server's create, a resize
// through its spec, and a resize ServerAction (the REST shim's) each reserve their usage
// before they are stored, or are refused with Nova's 403 words.
type QuotaGate struct {
	Reserver *quota.Reserver
	// Client and Reader find a flavor, in the cache and then in the API server.
	Client client.Client
	Reader client.Reader
}

// reserve reserves claim in ns (nothing on a dry run), or refuses with Nova's words.
func (g *QuotaGate) reserve(ctx context.Context, ns string, gr schema.GroupResource, name string, claim quota.Claim) error {
	if g == nil {
		return nil
	}
	if req, err := admission.RequestFromContext(ctx); err == nil && req.DryRun != nil && *req.DryRun {
		claim.DryRun = true
	}
	err := g.Reserver.Reserve(ctx, ns, claim)
	switch {
	case err == nil:
		return nil
	case quota.IsExceeded(err):
		return apierrors.NewForbidden(gr, name, err)
	case apierrors.IsTooManyRequests(err):
		return err
	default:
		return apierrors.NewInternalError(err)
	}
}

// reserveResize reserves what flavor to adds to srv's flavor from (a flavor that is gone
// held nothing); a resize that adds nothing needs no reservation.
func (g *QuotaGate) reserveResize(ctx context.Context, srv *computev1.Server, gr schema.GroupResource, name, from string, to *computev1.Flavor) error {
	if g == nil {
		return nil
	}
	var was *computev1.Flavor
	err := refs.Resolve(g.Client, g.Reader, func(c client.Reader) (err error) { was, err = refs.Flavor(ctx, c, from); return err })
	if err != nil && !refs.IsNotFound(err) {
		return apierrors.NewInternalError(err)
	}
	a, b := quota.FlavorOf(was), quota.FlavorOf(to)
	growth := quota.Usage{Cores: b.VCPUs - a.VCPUs, RAM: b.RAM - a.RAM}
	if growth.Cores <= 0 && growth.RAM <= 0 {
		return nil
	}
	return g.reserve(ctx, srv.Namespace, gr, name, quota.Claim{UID: string(srv.UID), FlavorRef: to.Name, Growth: growth})
}

// reserveResizeAction reserves the growth of a resize asked for with a ServerAction (from
// the flavor the server runs, else the one its spec asks for). A record the controller
// makes of a spec change was reserved with the change.
func (g *QuotaGate) reserveResizeAction(ctx context.Context, sa *computev1.ServerAction) error {
	if g == nil || sa.Spec.Action != computev1.ActionResize || sa.Spec.Resize == nil {
		return nil
	}
	if _, fromSpec := sa.Labels[computev1.LabelFromSpec]; fromSpec {
		return nil
	}
	srv := &computev1.Server{}
	key := client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ServerName}
	err := g.Client.Get(ctx, key, srv)
	if apierrors.IsNotFound(err) {
		err = g.Reader.Get(ctx, key, srv)
	}
	if err != nil {
		// The controller refuses an action on a server that is not there.
		return client.IgnoreNotFound(err)
	}
	var to *computev1.Flavor
	err = refs.Resolve(g.Client, g.Reader, func(c client.Reader) (err error) { to, err = refs.Flavor(ctx, c, sa.Spec.Resize.FlavorRef); return err })
	if refs.IsNotFound(err) {
		return nil // the controller refuses an unknown flavor, as the REST shim does first
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	from := srv.Spec.FlavorRef
	if srv.Status.Flavor != "" {
		from = srv.Status.Flavor
	}
	return g.reserveResize(ctx, srv, computev1.GroupVersion.WithResource("serveractions").GroupResource(), sa.Name, from, to)
}
