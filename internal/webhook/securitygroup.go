package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-securitygroup,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=securitygroups,verbs=create;update;delete,versions=v1alpha1,name=vsecuritygroup.compute.kova.dev,admissionReviewVersions=v1

// +kubebuilder:rbac:groups=compute.kova.dev,resources=securitygroups,verbs=get;list;watch

// SecurityGroupWebhook keeps kubectl to the rules the REST API keeps for groups: rules
// Neutron would take (rules.CheckSecurityGroupRules), remote groups that exist, the tenant's
// security_groups and security_group_rules quotas, no rename and no delete while a server is in the group (Neutron's
// 409 SecurityGroupInUse).
type SecurityGroupWebhook struct {
	// Reader lists past the cache, so that what was made a moment ago counts.
	Reader client.Reader
	// Quotas holds the tenant's security_groups and security_group_rules quotas against
	// concurrent writes.
	Quotas *QuotaGate
}

var securityGroupGK = computev1.GroupVersion.WithKind("SecurityGroup").GroupKind()
var securityGroupGR = computev1.GroupVersion.WithResource("securitygroups").GroupResource()

// ValidateCreate checks the rules, then reserves the group and its rules in the tenant's
// quotas.
func (w *SecurityGroupWebhook) ValidateCreate(ctx context.Context, g *computev1.SecurityGroup) (admission.Warnings, error) {
	if err := w.checkRules(ctx, g); err != nil {
		return nil, err
	}
	return nil, w.Quotas.reserveObjects(ctx, g.Namespace, securityGroupGR, g.Name, quota.ObjectClaim{
		UID: string(g.UID), Generation: g.Generation,
		Counts: map[string]int64{quota.SecurityGroups: 1, quota.SecurityGroupRules: int64(len(g.Spec.Rules))}})
}

// ValidateUpdate checks the rules, and refuses a rename while servers name the group.
func (w *SecurityGroupWebhook) ValidateUpdate(ctx context.Context, old, g *computev1.SecurityGroup) (admission.Warnings, error) {
	if err := w.checkRules(ctx, g); err != nil {
		return nil, err
	}
	if old.DisplayName() != g.DisplayName() {
		users, err := w.servers(ctx, old)
		if err != nil {
			return nil, err
		}
		if len(users) > 0 {
			return nil, apierrors.NewConflict(securityGroupGR, g.Name, fmt.Errorf(
				"Security Group %s in use: servers %v name it %q; take them out of it first", old.UID, users, old.DisplayName()))
		}
	}
	if added := len(g.Spec.Rules) - len(old.Spec.Rules); added > 0 {
		// Last: the rules a change adds count against the tenant's security_group_rules
		// until the group is seen stored at this generation.
		return nil, w.Quotas.reserveObjects(ctx, g.Namespace, securityGroupGR, g.Name, quota.ObjectClaim{
			UID: string(g.UID), Generation: g.Generation, Counts: map[string]int64{quota.SecurityGroupRules: int64(added)}})
	}
	return nil, nil
}

// ValidateDelete refuses to delete a group a server is in, in Neutron's words.
func (w *SecurityGroupWebhook) ValidateDelete(ctx context.Context, g *computev1.SecurityGroup) (admission.Warnings, error) {
	users, err := w.servers(ctx, g)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return nil, apierrors.NewConflict(securityGroupGR, g.Name, errors.New("Security Group "+string(g.UID)+" in use."))
	}
	return nil, nil
}

// servers are the servers in g, by name. While another group has the same name, a server
// naming it is in neither for sure, and neither is in use (servers cannot name either then).
func (w *SecurityGroupWebhook) servers(ctx context.Context, g *computev1.SecurityGroup) ([]string, error) {
	var groups computev1.SecurityGroupList
	if err := w.Reader.List(ctx, &groups, client.InNamespace(g.Namespace)); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if len(rules.SecurityGroupsNamed(groups.Items, g.DisplayName())) > 1 {
		return nil, nil
	}
	var srvs computev1.ServerList
	if err := w.Reader.List(ctx, &srvs, client.InNamespace(g.Namespace)); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var out []string
	for i := range srvs.Items {
		if slices.Contains(rules.ServerSecurityGroups(&srvs.Items[i]), g.DisplayName()) {
			out = append(out, srvs.Items[i].Name)
		}
	}
	return out, nil
}

// checkRules checks each rule and the groups they name.
func (w *SecurityGroupWebhook) checkRules(ctx context.Context, g *computev1.SecurityGroup) error {
	p := field.NewPath("spec", "rules")
	if err := rules.CheckSecurityGroupRules(string(g.UID), g.Spec.Rules); err != nil {
		return apierrors.NewInvalid(securityGroupGK, g.Name, field.ErrorList{field.Invalid(p, len(g.Spec.Rules), err.Error())})
	}
	var errs field.ErrorList
	for i, r := range g.Spec.Rules {
		if r.RemoteGroup == "" || r.RemoteGroup == g.Name {
			continue
		}
		err := w.Reader.Get(ctx, client.ObjectKey{Namespace: g.Namespace, Name: r.RemoteGroup}, &computev1.SecurityGroup{})
		switch {
		case apierrors.IsNotFound(err) && r.RemoteGroup == rules.DefaultSecurityGroup:
			// The default group is made on first use.
		case apierrors.IsNotFound(err):
			errs = append(errs, field.Invalid(p.Index(i).Child("remoteGroup"), r.RemoteGroup,
				"Security group "+r.RemoteGroup+" does not exist"))
		case err != nil:
			return apierrors.NewInternalError(err)
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(securityGroupGK, g.Name, errs)
	}
	return nil
}
