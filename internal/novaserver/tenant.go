package novaserver

import (
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kova-dev/kova/internal/novaapi"
)

// tenantsPath is where both ways in meet: kube-apiserver proxies
// /apis/nova.kova.dev/v1/namespaces/{tenant}/<rest>, and direct requests are rewritten to it.
const tenantsPath = versionPath + "/namespaces/"

// tenantRouter runs behind the generic handler chain, so the request is authenticated and
// authorized: it strips the prefix and hands the request to the Nova handler with the
// caller set.
type tenantRouter struct {
	compute, flexCloud, glance http.Handler
	// networking serves the networking service's read API (nil: none): direct requests under
	// /networking/v2.0, and aggregated ones to its collections (networking.go).
	networking http.Handler
	writeError func(w http.ResponseWriter, code int, msg string)
	// aggregatedBase is kube-apiserver's URL: it proxies with the Host of the Service.
	aggregatedBase string
}

func (t *tenantRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), tenantsPath), "/")
	if len(validation.IsDNS1123Label(tenant)) > 0 || hasDotSegment(rest) {
		t.writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if info, ok := request.RequestInfoFrom(r.Context()); ok && kubernetesOnly(info, r) {
		// Not Nova's to answer: say the method is not supported, in the client's language.
		gr := schema.GroupResource{Group: GroupName, Resource: info.Resource}
		responsewriters.ErrorNegotiated(apierrors.NewMethodNotSupported(gr, info.Verb), codecs, schema.GroupVersion{}, w, r)
		return
	}
	u, ok := request.UserFrom(r.Context())
	if !ok { // the chain authenticated the request: this is a bug, not a client error
		t.writeError(w, http.StatusInternalServerError, "The request reached the Nova API without an authenticated user.")
		return
	}
	caller := novaapi.Caller{User: u, Tenant: tenant, Root: t.aggregatedBase + tenantsPath + tenant}
	handler := t.compute
	if t.networking != nil && isNetworkingCollection(rest) {
		handler = t.networking
		caller.Root = t.aggregatedBase + tenantsPath + tenant
	}
	if d := directFrom(r.Context()); d != nil {
		d.reached.Store(true)
		caller.Root = d.root
		switch {
		case d.flexCloud:
			handler = t.flexCloud
		case d.networking && t.networking != nil:
			handler = t.networking
		case d.networking:
			t.writeError(w, http.StatusNotFound, msgNotFound)
			return
		case d.glance:
			handler = t.glance
		default:
			handler = t.compute
		}
	}
	r = r.WithContext(novaapi.WithCaller(r.Context(), caller))
	r.URL = withEscapedPath(r.URL, "/"+rest)
	r.RequestURI = r.URL.RequestURI()
	handler.ServeHTTP(w, r)
}

// withEscapedPath returns a copy of u with the given escaped path.
func withEscapedPath(u *url.URL, escaped string) *url.URL {
	c := *u
	c.RawPath = escaped
	if p, err := url.PathUnescape(escaped); err == nil {
		c.Path = p
	} else {
		c.Path = escaped
	}
	if c.EscapedPath() != escaped {
		c.RawPath = "" // not a valid encoding of Path; let url pick one
	}
	return &c
}

// hasDotSegment reports a "." or ".." segment, which no Nova path has and which would make
// the path the handler sees differ from the one RBAC authorized.
func hasDotSegment(escapedPath string) bool {
	for _, seg := range strings.Split(escapedPath, "/") {
		if u, err := url.PathUnescape(seg); err != nil || u == "." || u == ".." {
			return true
		}
	}
	return false
}

// kubernetesOnly reports what only Kubernetes clients ask for: watches, deletes of whole
// collections, and lists of object metadata or tables. kube-controller-manager asks them
// when it deletes a namespace (it tries every resource of a group registered after it
// started, whatever discovery says) and kubectl get does, and both handle a
// MethodNotSupported, where a Nova body would leave the namespace stuck in Terminating.
func kubernetesOnly(info *request.RequestInfo, r *http.Request) bool {
	if info.Verb == "watch" || info.Verb == "deletecollection" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "as=PartialObjectMetadata") || strings.Contains(accept, "as=Table") ||
		strings.Contains(accept, "application/vnd.kubernetes.protobuf")
}

// isNetworkingCollection tells the networking service's collections (networks, subnets,
// ports, security groups and their rules, floating IPs), which Nova's compute API has none
// of, in a path after the tenant.
func isNetworkingCollection(rest string) bool {
	first, _, _ := strings.Cut(rest, "/")
	switch first {
	case "networks", "subnets", "ports", "security-groups", "security-group-rules", "floatingips", "quotas":
		return true
	}
	return false
}
