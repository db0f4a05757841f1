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
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-servergroup,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=servergroups,verbs=create,versions=v1alpha1,name=mservergroup.compute.kova.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-servergroup,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=servergroups,verbs=create,versions=v1alpha1,name=vservergroup.compute.kova.dev,admissionReviewVersions=v1

// +kubebuilder:rbac:groups=compute.kova.dev,resources=servergroups,verbs=get;list;watch

// ServerGroupWebhook records who made a group (Nova's user_id: the authenticated user,
// whatever the request said) and keeps a tenant to its server_groups quota. The CRD keeps
// the rest: the policies, rules only with anti-affinity, an immutable spec.
//
// The quota is checked on a count of the tenant's groups read from the API server plus the
// creates this process admitted that are not stored yet, one check at a time per tenant
// (countGate); only two replicas admitting at the same instant can pass the last place
// together. Nova's own count (objects.Quotas.check_deltas) has a window too unless its
// recheck_quota runs.
type ServerGroupWebhook struct {
	// Reader reads past the cache, so that a group made a moment ago counts.
	Reader client.Reader
	// Gate holds the count against concurrent creates (see countGate).
	Gate *countGate
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
	limits, err := quota.TenantLimits(ctx, w.Reader, g.Namespace)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	list := func() ([]string, error) {
		var list computev1.ServerGroupList
		if err := w.Reader.List(ctx, &list, client.InNamespace(g.Namespace)); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		return objectNames(list.Items, func(g computev1.ServerGroup) string { return g.Name }), nil
	}
	return nil, w.Gate.admit(ctx, "groups/"+g.Namespace, g.Name, list, func(count int) error {
		if !limits.Allows(quota.ServerGroups, count) {
			return apierrors.NewForbidden(serverGroupGR, g.Name, errors.New(rules.MsgServerGroupQuota))
		}
		return nil
	})
}

// objectNames are the names of items.
func objectNames[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

// ValidateUpdate has nothing to check: the spec is immutable (CEL).
func (w *ServerGroupWebhook) ValidateUpdate(context.Context, *computev1.ServerGroup, *computev1.ServerGroup) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete lets any group go, members or not, as Nova does.
func (w *ServerGroupWebhook) ValidateDelete(context.Context, *computev1.ServerGroup) (admission.Warnings, error) {
	return nil, nil
}

// checkServerGroup checks the group a new server boots into: it exists in the server's
// namespace (Nova's 400 InstanceGroupNotFound, by the id the REST call named) and has room
// under the server_group_members quota (Nova's 403), counted as the groups are (countGate).
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
	limits, err := quota.TenantLimits(ctx, v.Reader, srv.Namespace)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	list := func() ([]string, error) {
		members, err := refs.ServerGroupMembers(ctx, v.Reader, srv.Namespace, name)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		return objectNames(members, func(s computev1.Server) string { return s.Name }), nil
	}
	return v.Members.admit(ctx, "members/"+srv.Namespace+"/"+name, srv.Name, list, func(count int) error {
		if !limits.Allows(quota.ServerGroupMembers, count) {
			return apierrors.NewForbidden(serverGR, srv.Name, errors.New(rules.MsgServerGroupMembersQuota))
		}
		return nil
	})
}
