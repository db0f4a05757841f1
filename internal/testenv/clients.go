package testenv

import "net/http"

// AuthTokenAsBearer sends an OpenStack client's X-Auth-Token as the bearer token
// kube-apiserver reads, for clients such as gophercloud that reach nova-api through it.
type AuthTokenAsBearer struct{ Next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (b AuthTokenAsBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if t := r.Header.Get("X-Auth-Token"); t != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+t)
		r.Header.Del("X-Auth-Token")
	}
	return b.Next.RoundTrip(r)
}
