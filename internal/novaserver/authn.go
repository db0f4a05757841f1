package novaserver

import (
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
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

func isHealthPath(p string) bool {
	for _, h := range []string{"/healthz", "/livez", "/readyz"} {
		if p == h || strings.HasPrefix(p, h+"/") {
			return true
		}
	}
	return false
}
