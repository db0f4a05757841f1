package webhook

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/refs"
)

// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-servergroup,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=servergroups,verbs=create,versions=v1alpha1,name=mservergroup.compute.kova.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-servergroup,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=servergroups,verbs=create,versions=v1alpha1,name=vservergroup.compute.kova.dev,admissionReviewVersions=v1

// +kubebuilder:rbac:groups=compute.kova.dev,resources=servergroups,verbs=get;list;watch

// ServerGroupWebhook records who made a group (Nova's user_id: the authenticated user,
// whatever the request said) and keeps a tenant to its server_groups quota, reserved in
// its Quota before the group is stored (quota.Reserver), so concurrent creates through
// any replica never pass it together. The CRD keeps the rest: the policies, rules only
// with anti-affinity, an immutable spec.
type ServerGroupWebhook struct {
	Quotas *QuotaGate
}

var serverGroupGR = computev1.GroupVersion.WithResource("servergroups").GroupResource()

// Default sets the group's user.
func (w *ServerGroupWebhook) Default(ctx context.Context, g *computev1.ServerGroup) error {
	if user := userOf(ctx).Username; user != "" {
		g.Spec.UserID = user
	}
	return nil
}

// ValidateCreate refuses a group past the tenant's server_groups quota, in Nova's words.
func (w *ServerGroupWebhook) ValidateCreate(ctx context.Context, g *computev1.ServerGroup) (admission.Warnings, error) {
	return nil, w.Quotas.reserveObjects(ctx, g.Namespace, serverGroupGR, g.Name, quota.ObjectClaim{
		UID: string(g.UID), Generation: g.Generation, Counts: map[string]int64{quota.ServerGroups: 1}})
}

// ValidateUpdate has nothing to check: the spec is immutable (CEL).
func (w *ServerGroupWebhook) ValidateUpdate(context.Context, *computev1.ServerGroup, *computev1.ServerGroup) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete lets any group go, members or not, as Nova does.
func (w *ServerGroupWebhook) ValidateDelete(context.Context, *computev1.ServerGroup) (admission.Warnings, error) {
	return nil, nil
}

// checkServerGroup checks that the group a new server boots into exists in the server's
// namespace (Nova's 400 InstanceGroupNotFound, by the id the REST call named). Its
// server_group_members quota is reserved with the server's usage (memberClaim).
func (v *ServerValidator) checkServerGroup(ctx context.Context, srv *computev1.Server) error {
	name := srv.Spec.ServerGroup
	if name == "" {
		return nil
	}
	err := refs.Resolve(v.Client, v.Reader, func(c client.Reader) error {
		_, err := refs.ServerGroup(ctx, c, srv.Namespace, name)
		return err
	})
	var nf *refs.NotFoundError
	if errors.As(err, &nf) {
		return apierrors.NewInvalid(serverGK, srv.Name, field.ErrorList{field.Invalid(
			field.NewPath("spec", "serverGroup"), name, nf.Message)})
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	return nil
}

// memberClaim is the place a new server takes in its server group (none without one).
func memberClaim(srv *computev1.Server) *quota.ObjectClaim {
	if srv.Spec.ServerGroup == "" {
		return nil
	}
	return &quota.ObjectClaim{UID: string(srv.UID), Name: srv.Name, Generation: srv.Generation, Scope: srv.Spec.ServerGroup,
		Counts: map[string]int64{quota.ServerGroupMembers: 1}}
}
