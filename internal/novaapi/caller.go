// Package novaapi serves the OpenStack Compute (Nova) API, and the Rackspace Cloud Servers
// paths beside it, over Kova's custom resources: reads come from an informer cache, writes
// go to Server.spec (desired state) or to a ServerAction (one-shot actions), so the server
// controller stays the only writer of status.
package novaapi

import (
	"context"

	"k8s.io/apiserver/pkg/authentication/user"
)

// Caller is who calls and for which tenant. The serving layer (cmd/nova-api) sets it
// after authentication and authorization; the handler trusts it.
type Caller struct {
	// User is the Kubernetes user the API server authenticated.
	User user.Info
	// Tenant is the namespace the request is for (Nova's project).
	Tenant string
	// Root is the compute root as the client sees it, for links and Location headers,
	// e.g. "https://127.0.0.1:8774/v2.1/demo" or
	// "https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo".
	Root string
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller set by WithCaller.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Admins says whether a user is Nova's admin: the cloud operator, who overrides locks and
// sees what Nova shows only to its admin (host attributes, host_status, every tenant, other
// users' keypairs, events below 2.51). A tenant's kova-admin is not: it is Nova's project
// member. cmd/nova-api answers it with a SubjectAccessReview for the verb override-lock on
// servers with no namespace, which only a ClusterRoleBinding can allow.
type Admins interface {
	IsAdmin(ctx context.Context, u user.Info) (bool, error)
}
