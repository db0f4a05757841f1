package webhook

import (
	"context"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// A group added to spec.securityGroups is Nova's addSecurityGroup, one removed its
// removeSecurityGroup: server actions (POST /servers/{id}/action), asked of RBAC in their
// own rules' names. At create the groups are part of the boot.
var (
	callAddSecurityGroup    = novaCall{http.MethodPost, pathServerAction, "os_compute_api:os-security-groups:add"}
	callRemoveSecurityGroup = novaCall{http.MethodPost, pathServerAction, "os_compute_api:os-security-groups:remove"}
)

// securityGroupEdits are the group names added to and removed from a server's spec.
func securityGroupEdits(was, is []string) (added, removed []string) {
	for _, n := range is {
		if !slices.Contains(was, n) {
			added = append(added, n)
		}
	}
	for _, n := range was {
		if !slices.Contains(is, n) {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// checkSecurityGroups refuses a group name a server newly names that means no group, or
// more than one, of its namespace, with Nova's words. The default group counts as there:
// it is made on the tenant's first use.
func (v *ServerValidator) checkSecurityGroups(ctx context.Context, old, srv *computev1.Server) error {
	var was []string
	if old != nil {
		was = rules.ServerSecurityGroups(old)
	}
	added, _ := securityGroupEdits(was, rules.ServerSecurityGroups(srv))
	if len(added) == 0 {
		return nil
	}
	groups, err := refs.SecurityGroupsFor(ctx, v.Client, v.Reader, srv.Namespace, added)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	var errs field.ErrorList
	p := field.NewPath("spec", "securityGroups")
	for _, name := range added {
		switch n := len(rules.SecurityGroupsNamed(groups, name)); {
		case n == 0 && name == rules.DefaultSecurityGroup:
		case n == 0:
			errs = append(errs, field.Invalid(p, name, "Security group "+name+" is not found for project "+srv.Namespace))
		case n > 1:
			errs = append(errs, field.Invalid(p, name, "Multiple security_group matches found for name '"+name+"', use an ID to be more specific."))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	return nil
}
