package novaserver

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/novaapi"
)

// requireCredentials turns the delegated authenticator's anonymous fallback into a failed
// authentication, so that a request without valid credentials gets 401 (not a 403 for
// system:anonymous): on the secure port an identity header without the front-proxy client
// certificate, on the direct listener a request without X-Auth-Token. Health checks stay
// open, for probes and for localcp to wait on.
func requireCredentials(a authenticator.Request) authenticator.Request {
	return authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		resp, ok, err := a.AuthenticateRequest(r)
		if ok && resp.User.GetName() == user.Anonymous && !isHealthPath(r.URL.Path) {
			return nil, false, err
		}
		return resp, ok, err
	})
}

// markUnavailable notes on a direct request (directRequest.authUnavailable) that its
// credentials could not be checked, rather than found wrong: the TokenReview failed because
// kube-apiserver could not be reached or could not answer (novaapi.Unavailable). The chain
// still refuses the request; forward answers that refusal with a 503 the client retries,
// not a 401 that tells it its valid token is not.
func markUnavailable(a authenticator.Request) authenticator.Request {
	return authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		resp, ok, err := a.AuthenticateRequest(r)
		if !ok && err != nil && unavailable(err) {
			if dr := directFrom(r.Context()); dr != nil {
				dr.authUnavailable.Store(true)
			}
		}
		return resp, ok, err
	})
}

// unavailable says whether err, or one of the errors it aggregates (the union of the
// request authenticators), is kube-apiserver being unreachable or failing.
func unavailable(err error) bool {
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		return slices.ContainsFunc(agg.Errors(), unavailable)
	}
	return novaapi.Unavailable(err)
}

// refuseExpiredTokens fails the authentication of a bearer token whose own expiry (its
// JWT "exp" claim) has passed, before the wrapped authenticator looks at it. Two things would accept it longer:
// the TokenReview cache, which keeps a positive answer for its TTL
// (--authentication-token-webhook-cache-ttl) whatever the token's expiry, and
// kube-apiserver itself, which accepts a service-account token until a minute after it
// expired (the JWT library's leeway for clock skew, which is no concern on one host).
//
// The claim is read without verifying the signature: it can only refuse a token earlier,
// never accept one; a forged expiry breaks the signature TokenReview still checks.
func refuseExpiredTokens(a authenticator.Request, now func() time.Time) authenticator.Request {
	return authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		if expiry, ok := identity.JWTExpiry(requestBearerToken(r)); ok && !now().Before(expiry) {
			return nil, false, nil
		}
		return a.AuthenticateRequest(r)
	})
}

// requestBearerToken is the token of an "Authorization: Bearer" header (the direct listener
// moves X-Auth-Token there), or "".
func requestBearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func isHealthPath(p string) bool {
	for _, h := range []string{"/healthz", "/livez", "/readyz"} {
		if p == h || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}
