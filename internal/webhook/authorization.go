package webhook

import (
	"context"
	"flag"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authzwebhook "k8s.io/apiserver/plugin/pkg/authorizer/webhook"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
)

// The webhooks ask RBAC (SubjectAccessReviews) on every ServerAction and on every spec
// change that is a Nova call, as the REST shim asks it on every request. The shim keeps
// RBAC's answers for a while (k8s.io/apiserver's delegated authorizer); so do the webhooks,
// with the same library and the same defaults, so both ways in answer alike and a REST
// action (which the shim authorizes and then the webhook again) costs no more round trips
// than it must. The library keys an answer by the whole review (user, uid, groups, extra
// and every attribute), so no answer is ever used for another question.

// AuthorizationCache is how long the webhooks keep RBAC's answers: an allowed one for
// Allowed, a denied one for Denied (zero keeps none).
type AuthorizationCache struct {
	Allowed, Denied time.Duration
}

// DefaultAuthorizationCache are the REST shim's defaults (k8s.io/apiserver's
// DelegatingAuthorizationOptions).
var DefaultAuthorizationCache = AuthorizationCache{Allowed: 10 * time.Second, Denied: 10 * time.Second}

// BindFlags adds the manager's flags for c, named as the shim's (and kube-apiserver's
// delegated authorization's) flags are.
func (c *AuthorizationCache) BindFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Allowed, "authorization-webhook-cache-authorized-ttl", DefaultAuthorizationCache.Allowed,
		"How long the admission webhooks keep an 'authorized' answer of a SubjectAccessReview.")
	fs.DurationVar(&c.Denied, "authorization-webhook-cache-unauthorized-ttl", DefaultAuthorizationCache.Denied,
		"How long the admission webhooks keep an 'unauthorized' answer of a SubjectAccessReview.")
}

// newAuthorizer asks the API server of cfg, keeping its answers for as long as c says.
func newAuthorizer(cfg *rest.Config, c AuthorizationCache) (authorizer.Authorizer, error) {
	sar, err := authorizationclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: sar,
		AllowCacheTTL:             c.Allowed,
		DenyCacheTTL:              c.Denied,
		WebhookRetryBackoff:       authzwebhook.DefaultRetryBackoff(),
	}.New()
}

// allowed asks RBAC whether u may do what attrs say.
func (a *Admins) allowed(ctx context.Context, u authenticationv1.UserInfo, attrs *authorizationv1.ResourceAttributes) (bool, error) {
	extra := map[string][]string{}
	for k, v := range u.Extra {
		extra[k] = v
	}
	decision, _, err := a.Authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User:      &user.DefaultInfo{Name: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra},
		Verb:      attrs.Verb,
		Namespace: attrs.Namespace, APIGroup: attrs.Group, APIVersion: attrs.Version,
		Resource: attrs.Resource, Subresource: attrs.Subresource, Name: attrs.Name,
		ResourceRequest: true,
	})
	if err != nil {
		return false, fmt.Errorf("asking RBAC: %w", err)
	}
	return decision == authorizer.DecisionAllow, nil
}
