package novaserver

import (
	"context"
	"fmt"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// admins answers novaapi.Admins with the server's delegated authorizer: a
// SubjectAccessReview for the verb override-lock on compute.kova.dev servers with no
// namespace, as the admission webhook asks it for kubectl users. With no namespace only a
// ClusterRoleBinding can allow it (kova-cloud-admin, or cluster-admin's `*`): a tenant's
// kova-admin, bound in its namespace, is Nova's project member, not the cloud operator.
// The authorizer caches the answers briefly (--authorization-webhook-cache-*-ttl).
type admins struct {
	authorizer authorizer.Authorizer
}

func (a admins) IsAdmin(ctx context.Context, u user.Info) (bool, error) {
	decision, _, err := a.authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User:            u,
		Verb:            computev1.VerbOverrideLock,
		APIGroup:        computev1.GroupVersion.Group,
		APIVersion:      computev1.GroupVersion.Version,
		Resource:        "servers",
		ResourceRequest: true,
	})
	if decision == authorizer.DecisionAllow {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking whether %s is the cloud operator: %w", u.GetName(), err)
	}
	return false, nil
}
