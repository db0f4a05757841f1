package novaserver

import (
	"context"
	"net/http"
	"net/url"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/kova-dev/kova/internal/identity"
)

// The identity service (internal/identity) is served on the direct listener at /identity,
// outside the handler chain (a login has no credentials yet). Its tokens are judged by it
// alone: the chain's authenticator hands it every bearer token that claims to be Kova's and
// never sends one to TokenReview; any other token goes on to TokenReview as before.

// withIdentityTokens puts the identity service's check of Kova tokens in front of next.
func withIdentityTokens(next authenticator.Request, ids *identity.Service) authenticator.Request {
	return authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		if token := requestBearerToken(r); identity.IsKovaToken(token) {
			return ids.AuthenticateToken(r.Context(), token)
		}
		return next.AuthenticateRequest(r)
	})
}

// bearerAuthenticator adapts the chain's request authenticator to one bearer token: the
// identity service's token method and its callers who bring a Kubernetes token are checked
// exactly as the chain checks a request that carries it (TokenReview, cached).
func bearerAuthenticator(a authenticator.Request) authenticator.Token {
	return authenticator.TokenFunc(func(ctx context.Context, token string) (*authenticator.Response, bool, error) {
		probe := (&http.Request{
			Method: http.MethodGet,
			URL:    &url.URL{Path: identity.PathPrefix},
			Header: http.Header{"Authorization": {"Bearer " + token}},
		}).WithContext(ctx)
		return a.AuthenticateRequest(probe)
	})
}

// Nova's answer to a path naming another project than the token's (nova.api.openstack.wsgi).
func msgProjectMismatch(path, token string) string {
	return "Malformed request URL: URL's project_id '" + path + "' doesn't match Context's project_id '" + token + "'"
}
