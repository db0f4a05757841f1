package novaserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/endpoints/responsewriter"

	"github.com/kova-dev/kova/internal/identity"
)

// Nova's messages for what the handler chain refuses before the Nova handler runs.
const (
	msgUnauthorized = "The request you have made requires authentication."
	// msgAuthUnavailable is the 503 of a request whose token could not be checked.
	msgAuthUnavailable = "The identity service is temporarily unavailable. Please try again at a later time."
	msgNoTenant        = "This request names no tenant: use /v2.1/{tenant}/..., a service-account token, or start nova-api with --default-tenant."
	msgNotFound        = "The resource could not be found."
)

// direct serves the OpenStack paths on the direct listener by rewriting them to the
// aggregated form and running the generic handler chain on them.
type direct struct {
	chain         http.Handler // the generic server's full handler chain
	versions      http.Handler
	writeError    func(w http.ResponseWriter, code int, msg string)
	imageVersions http.Handler
	glanceError   func(w http.ResponseWriter, r *http.Request, code int, msg string)
	glancePolicy  func(method, path string) string
	authenticator authenticator.Request
	requestInfo   request.RequestInfoResolver
	defaultTenant string
	// identity serves /identity and judges Kova tokens (their project scopes the paths).
	identity *identity.Service
	// networkingVersions and writeNetworkingError serve the networking service at
	// /networking (nil: not served).
	networkingVersions   http.Handler
	writeNetworkingError func(w http.ResponseWriter, code int, msg string)
	// base is the direct endpoint as clients know it (--public-endpoint): links are built
	// on it, never on the request's Host header, which the client chooses.
	base string
}

// directRequest is what the tenant router needs to know about a direct request; it travels
// in the request's context through the handler chain.
type directRequest struct {
	root      string // the compute root as the client sees it
	flexCloud bool
	// networking is a request to the networking service (/networking/v2.0/...): its
	// refusals are written in that service's body.
	networking bool
	// glance is an image API request (/image/v2/images/...): served by the image handler,
	// its refusals written as the image service writes them. glancePath is its path after
	// /image, which names the policy rule of a refusal.
	glance     bool
	glancePath string
	// reached is set once the chain let the request through to the Nova handler: a 401 or
	// 403 before that comes from the chain and must be rewritten into a Nova body.
	reached atomic.Bool
	// authUnavailable is set when the request's token could not be checked at all
	// (kube-apiserver unreachable or failing: markUnavailable): the chain's 401 is then a
	// 503, to be sent again, as keystonemiddleware answers 503 while Keystone is down.
	authUnavailable atomic.Bool
}

type directKey struct{}

func directFrom(ctx context.Context) *directRequest {
	d, _ := ctx.Value(directKey{}).(*directRequest)
	return d
}

func (d *direct) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/" || path == "/v2.1" || path == "/v2.1/":
		d.versions.ServeHTTP(w, r)
	case d.identity != nil && (path == identity.PathPrefix || strings.HasPrefix(path, identity.PathPrefix+"/")):
		d.identity.ServeHTTP(w, r)
	case strings.HasPrefix(path, "/v2.1/"):
		d.serveCompute(w, r, strings.TrimPrefix(path, "/v2.1"))
	case d.networkingVersions != nil && (path == "/networking" || path == "/networking/" ||
		path == "/networking/v2.0" || path == "/networking/v2.0/"):
		d.networkingVersions.ServeHTTP(w, r)
	case d.networkingVersions != nil && strings.HasPrefix(path, "/networking/v2.0/"):
		d.serveNetworking(w, r, strings.TrimPrefix(path, "/networking/v2.0"))
	case path == imagePrefix || strings.HasPrefix(path, imagePrefix+"/"):
		d.serveImage(w, r, strings.TrimPrefix(path, imagePrefix))
	case strings.HasPrefix(path, "/accounts/"):
		// /accounts/{accountId}/flexcloud/servers...
		account, rest, _ := strings.Cut(strings.TrimPrefix(path, "/accounts/"), "/")
		if rest != "flexcloud" && !strings.HasPrefix(rest, "flexcloud/") {
			d.writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		root := d.base + "/accounts/" + account + "/flexcloud"
		d.forward(w, r, account, strings.TrimPrefix(rest, "flexcloud"), &directRequest{root: root, flexCloud: true})
	default:
		d.writeError(w, http.StatusNotFound, msgNotFound)
	}
}

// serveCompute serves rest, the path after /v2.1: either /{tenant}/... or, without a
// tenant, /servers/... with the tenant taken from the token.
func (d *direct) serveCompute(w http.ResponseWriter, r *http.Request, rest string) {
	first, after, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if isComputeCollection(first) {
		if tenant, ok := d.tokenTenant(w, r, d.writeError); ok {
			d.forward(w, r, tenant, rest, &directRequest{root: d.base + "/v2.1"})
		}
		return
	}
	if after == "" {
		// The versioned root of a tenant (/v2.1/{tenant}), which clients probe for the
		// supported microversions: the same document as /v2.1.
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = "/v2.1", ""
		d.versions.ServeHTTP(w, r)
		return
	}
	d.forward(w, r, first, "/"+after, &directRequest{root: d.base + "/v2.1/" + first})
}

// serveNetworking serves rest, the path after /networking/v2.0, for the token's tenant:
// the networking service's paths carry no tenant.
func (d *direct) serveNetworking(w http.ResponseWriter, r *http.Request, rest string) {
	if tenant, ok := d.tokenTenant(w, r, d.writeNetworkingError); ok {
		d.forward(w, r, tenant, rest, &directRequest{root: d.base + "/networking/v2.0", networking: true})
	}
}

// tokenTenant is the tenant of a request whose path names none (tenantOf); without one it
// writes the refusal with writeError and reports false.
func (d *direct) tokenTenant(w http.ResponseWriter, r *http.Request, writeError func(http.ResponseWriter, int, string)) (string, bool) {
	tenant := d.tenantOf(r)
	if tenant != "" {
		return tenant, true
	}
	// A Kova token names its project: one that names none is unscoped, expired or not
	// valid, all a 401.
	if token := bearerToken(r); token == "" || identity.IsKovaToken(token) {
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
	} else {
		writeError(w, http.StatusBadRequest, msgNoTenant)
	}
	return "", false
}

// imagePrefix is where the direct listener serves the image service (Glance v2): the
// version documents at /image and /image/versions, the API at /image/v2/images/...
const imagePrefix = "/image"

// serveImage serves rest, the path after /image. The image API's paths carry no tenant: it
// is the token's, as for /v2.1/servers. They are authorized as nova.kova.dev images (with
// subresources file and tags) of that tenant, through the same handler chain.
func (d *direct) serveImage(w http.ResponseWriter, r *http.Request, rest string) {
	if !strings.HasPrefix(rest, "/v2/images") || (len(rest) > len("/v2/images") && rest[len("/v2/images")] != '/') {
		if rest == "" || rest == "/" || rest == "/versions" {
			r = r.Clone(r.Context())
			r.URL.Path, r.URL.RawPath = rest, ""
			d.imageVersions.ServeHTTP(w, r)
			return
		}
		d.glanceError(w, r, http.StatusNotFound, msgNotFound)
		return
	}
	tenant, ok := d.tokenTenant(w, r, func(w http.ResponseWriter, code int, msg string) { d.glanceError(w, r, code, msg) })
	if !ok {
		return
	}
	d.forward(w, r, tenant, strings.TrimPrefix(rest, "/v2"), &directRequest{root: d.base + imagePrefix, glance: true, glancePath: rest})
}

// isComputeCollection tells /v2.1/servers (no tenant) from /v2.1/{tenant}/servers. Nova's
// top-level collections are a few plain names and the os-* extensions, so a tenant whose
// name starts with "os-" can only be reached with a token (or the default tenant).
func isComputeCollection(segment string) bool {
	switch segment {
	case "servers", "flavors", "images", "limits", "extensions":
		return true
	}
	return strings.HasPrefix(segment, "os-")
}

// tenantOf is the tenant of a request that names none: the namespace of a service-account
// token, else the default tenant. It authenticates with the server's own authenticator,
// whose TokenReview answers are cached, so the chain's own check costs nothing more.
func (d *direct) tenantOf(r *http.Request) string {
	if token := bearerToken(r); d.identity != nil && identity.IsKovaToken(token) {
		// A Kova token's tenant is its project (none for an unscoped or invalid one).
		project, _ := d.identity.Scope(r.Context(), token)
		return project
	} else if token != "" {
		probe := (&http.Request{
			Method: r.Method,
			URL:    &url.URL{Path: tenantsPath},
			Header: http.Header{"Authorization": {"Bearer " + token}},
		}).WithContext(r.Context())
		if resp, ok, _ := d.authenticator.AuthenticateRequest(probe); ok {
			if ns, _, err := serviceaccount.SplitUsername(resp.User.GetName()); err == nil {
				return ns
			}
		}
	}
	return d.defaultTenant
}

// bearerToken is the Kubernetes token a Nova client sent: X-Auth-Token, or a bearer token
// in Authorization for clients that speak Kubernetes.
func bearerToken(r *http.Request) string {
	if token := strings.TrimSpace(r.Header.Get("X-Auth-Token")); token != "" {
		return token
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// forward runs the request through the generic handler chain as
// /apis/nova.kova.dev/v1/namespaces/{tenant}{rest}, so that it is authenticated and
// authorized exactly like the same request through kube-apiserver.
func (d *direct) forward(w http.ResponseWriter, r *http.Request, tenant, rest string, dr *directRequest) {
	if len(validation.IsDNS1123Label(tenant)) > 0 {
		d.writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if token := bearerToken(r); d.identity != nil && identity.IsKovaToken(token) {
		// A Kova token is scoped to one project: a path naming another is Nova's 400, as with
		// a Keystone token (an unscoped or invalid token is the chain's 401).
		if project, ok := d.identity.Scope(r.Context(), token); ok && project != "" && project != tenant {
			_ = drainBody(w, r)
			d.writeError(w, http.StatusBadRequest, msgProjectMismatch(tenant, project))
			return
		} else if !ok || project == "" {
			_ = drainBody(w, r)
			d.writeError(w, http.StatusUnauthorized, msgUnauthorized)
			return
		}
	}
	r = r.Clone(context.WithValue(r.Context(), directKey{}, dr))
	// Only the token authenticates here: identity headers count only from kube-apiserver
	// with its front-proxy certificate, which this listener never asks for; drop them anyway.
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Remote-") {
			r.Header.Del(name)
		}
	}
	if token := bearerToken(r); token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	r.Header.Del("X-Auth-Token")
	r.URL = withEscapedPath(r.URL, tenantsPath+tenant+rest)
	r.RequestURI = r.URL.RequestURI()

	impersonated := impersonatedKind(r.Header) // before the chain, which may remove the headers
	nw := &novaErrors{ResponseWriter: w, reached: &dr.reached}
	d.chain.ServeHTTP(responsewriter.WrapForHTTP1Or2(nw), r)
	if nw.held == http.StatusUnauthorized && dr.authUnavailable.Load() {
		nw.held = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	if nw.held != 0 {
		if !drainBody(w, r) {
			// Over HTTP/2 the chain's "Connection: close" for a client without credentials
			// (kube-apiserver's defence against stream floods) sends GOAWAY and closes the
			// connection once the stream ends. With the client still sending a body nobody
			// reads, the stream is reset and the close resets the connection, and clients
			// lose the refusal they were sent (curl: the status, then no body). Keep the
			// connection open for a body too big to read.
			w.Header().Del("Connection")
		}
		if dr.glance {
			msg := msgUnauthorized
			switch nw.held {
			case http.StatusForbidden:
				msg = d.glancePolicy(r.Method, dr.glancePath)
			case http.StatusServiceUnavailable:
				msg = msgAuthUnavailable
			}
			d.glanceError(w, r, nw.held, msg)
			return
		}
		writeError := d.writeError
		if dr.networking {
			writeError = d.writeNetworkingError
		}
		if nw.held == http.StatusForbidden && d.deletesCollection(r) {
			// DELETE of a whole collection (DELETE /images/, a blank id) is no call of
			// Nova's or Neutron's: their router answers 404 to whoever asks, which says
			// nothing RBAC has to guard.
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		writeError(w, nw.held, d.message(nw.held, r, impersonated, nw.status))
	}
}

// deletesCollection says whether r, as the chain saw it, deletes a whole collection.
func (d *direct) deletesCollection(r *http.Request) bool {
	info, err := d.requestInfo.NewRequestInfo(r)
	return err == nil && info.IsResourceRequest && info.Verb == "deletecollection"
}

// Bounds on what drainBody reads of a refused request's body: net/http's own for an HTTP/1
// body a handler left unread, and a deadline against a client that trickles it.
const (
	drainMaxBytes = 256 << 10
	drainTimeout  = 5 * time.Second
)

// drainBody reads and discards what is left of r's body, up to drainMaxBytes and
// drainTimeout, before a refusal is written, so that the response ends the exchange
// cleanly; it reports whether the body was read to its end.
func drainBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(drainTimeout)); err == nil {
		defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, drainMaxBytes+1))
	return err == nil && n <= drainMaxBytes
}

// message is Nova's wording for a 401 or 403 from the handler chain.
// impersonated is what the request asks to impersonate (see impersonatedKind), status the
// Kubernetes Status the chain refused it with.
func (d *direct) message(code int, r *http.Request, impersonated string, status []byte) string {
	switch code {
	case http.StatusUnauthorized:
		return msgUnauthorized
	case http.StatusServiceUnavailable:
		return msgAuthUnavailable
	}
	// The impersonation filter runs before authorization: a refused Impersonate-User (or
	// -Uid, -Group, -Extra-*) header is its refusal, not the path's.
	if impersonated != "" && impersonationRefused(status) {
		return "Policy doesn't allow " + impersonated + ":impersonate to be performed."
	}
	action := "this action"
	if info, err := d.requestInfo.NewRequestInfo(r); err == nil && info.IsResourceRequest {
		action = info.Resource
		if info.Subresource != "" {
			action += "/" + info.Subresource
		}
		action += ":" + info.Verb
	}
	return "Policy doesn't allow " + action + " to be performed."
}

// impersonatedKind is the RBAC resource of what a request's impersonation headers ask to
// act as (users, uids, groups, userextras), or "" if it asks for no impersonation.
func impersonatedKind(h http.Header) string {
	switch {
	case h.Get(authenticationv1.ImpersonateUserHeader) != "":
		return "users"
	case h.Get(authenticationv1.ImpersonateUIDHeader) != "":
		return "uids"
	case h.Get(authenticationv1.ImpersonateGroupHeader) != "":
		return "groups"
	}
	for name := range h {
		if strings.HasPrefix(name, authenticationv1.ImpersonateUserExtraHeaderPrefix) {
			return "userextras"
		}
	}
	return ""
}

// impersonationRefused reports whether status, the Kubernetes Status of a 403 from the
// handler chain, refuses the impersonation rather than the request: the library words
// that refusal "User X cannot impersonate ..." (the legacy check) or "cannot
// impersonate-on:..." (constrained impersonation), a verb no Nova path is authorized with.
func impersonationRefused(status []byte) bool {
	var st metav1.Status
	return json.Unmarshal(status, &st) == nil && strings.Contains(st.Message, " cannot impersonate")
}

// maxHeldStatus bounds the Kubernetes Status kept of a held refusal (a few hundred bytes).
const maxHeldStatus = 64 << 10

// novaErrors holds back a 401 or 403 the handler chain writes before the Nova handler
// runs (as a Kubernetes Status), for forward to write Nova's body instead.
type novaErrors struct {
	http.ResponseWriter
	reached *atomic.Bool
	held    int
	status  []byte // the held refusal's body
}

func (w *novaErrors) WriteHeader(code int) {
	if (code == http.StatusUnauthorized || code == http.StatusForbidden) && !w.reached.Load() {
		w.held = code
		w.Header().Del("Content-Length")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *novaErrors) Write(b []byte) (int, error) {
	if w.held != 0 {
		if room := maxHeldStatus - len(w.status); room > 0 {
			w.status = append(w.status, b[:min(len(b), room)]...)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets the chain's writers see the Flusher and Hijacker underneath.
func (w *novaErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }
