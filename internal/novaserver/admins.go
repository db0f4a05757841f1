package novaserver

import (
	"context"
	"fmt"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// admins answers novaapi.Admins with the server's delegated authorizer: a
// SubjectAccessReview for the verb override-lock on compute.kova.dev servers in the tenant,
// whose answers the authorizer caches briefly (--authorization-webhook-cache-*-ttl), as the
// admission webhook asks it for kubectl users.
type admins struct {
	authorizer authorizer.Authorizer
}

func (a admins) IsAdmin(ctx context.Context, tenant string, u user.Info) (bool, error) {
	decision, _, err := a.authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User:            u,
		Verb:            computev1.VerbOverrideLock,
		Namespace:       tenant,
		APIGroup:        computev1.GroupVersion.Group,
		APIVersion:      computev1.GroupVersion.Version,
		Resource:        "servers",
		ResourceRequest: true,
	})
	if decision == authorizer.DecisionAllow {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking whether %s may override locks in %s: %w", u.GetName(), tenant, err)
	}
	return false, nil
}
