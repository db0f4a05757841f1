package webhook

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
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
	claim.DryRun = dryRun(ctx)
	return quotaRefusal(gr, name, g.Reserver.Reserve(ctx, ns, claim))
}

// reserveObjects reserves what an object adds to the quotas that count objects (nothing
// on a dry run), or refuses with the owning service's words.
func (g *QuotaGate) reserveObjects(ctx context.Context, ns string, gr schema.GroupResource, name string, claim quota.ObjectClaim) error {
	if g == nil {
		return nil
	}
	claim.Name, claim.DryRun = name, dryRun(ctx)
	return quotaRefusal(gr, name, g.Reserver.ReserveObjects(ctx, ns, claim))
}

func dryRun(ctx context.Context) bool {
	req, err := admission.RequestFromContext(ctx)
	return err == nil && req.DryRun != nil && *req.DryRun
}

// quotaRefusal is err as admission answers it: a quota passed is a 403 in the words of
// the service that owns what was counted (Nova's for servers and server groups, Neutron's
// for security groups, their rules and floating IPs, which the REST shim recognises).
func quotaRefusal(gr schema.GroupResource, name string, err error) error {
	var over *quota.ObjectExceededError
	switch {
	case err == nil:
		return nil
	case quota.IsExceeded(err):
		return apierrors.NewForbidden(gr, name, err)
	case errors.As(err, &over):
		return apierrors.NewForbidden(gr, name, errors.New(objectQuotaMessage(over)))
	case apierrors.IsTooManyRequests(err):
		return err
	default:
		return apierrors.NewInternalError(err)
	}
}

// objectQuotaMessage says which quota a create passes: Nova's words for server groups and
// keypairs,
// Neutron's OverQuota words for the network's objects (followed by the figures, for
// kubectl's user; the shim answers Neutron's words alone).
func objectQuotaMessage(e *quota.ObjectExceededError) string {
	neutron := map[string]string{quota.SecurityGroups: "security_group", quota.SecurityGroupRules: "security_group_rule",
		quota.FloatingIPs: "floatingip"}
	switch {
	case e.Resource == quota.ServerGroups:
		return rules.MsgServerGroupQuota
	case e.Resource == quota.ServerGroupMembers:
		return rules.MsgServerGroupMembersQuota
	case e.Resource == quota.KeyPairs:
		return rules.MsgKeypairQuota
	case neutron[e.Resource] != "":
		return fmt.Sprintf("%s: the tenant holds %d of its %d %s (its Quota's limit)",
			rules.OverQuotaMessage(neutron[e.Resource]), e.Used, e.Limit, e.Resource)
	}
	return e.Error()
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
