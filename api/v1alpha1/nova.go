package v1alpha1

import "strings"

// NovaAPIGroup is the API group of the Nova REST shim (APIService v1.nova.kova.dev). Its
// paths are what RBAC rules for the REST calls name (servers/action, servers/metadata, ...),
// so the admission webhook asks RBAC in the same terms when a spec field means such a call.
const NovaAPIGroup = "nova.kova.dev"

// VerbOverrideLock is the RBAC verb on servers that lets a user act on a locked server:
// Nova's admin, the cloud operator. Only a cluster-wide grant counts: the admission webhook
// and the REST shim ask for it alike with no namespace, which only a ClusterRoleBinding can
// allow (the ClusterRole kova-cloud-admin, or cluster-admin's `*`); a tenant's kova-admin
// does not have it.
const VerbOverrideLock = "override-lock"

// Annotations that name people. Kova sets them from the authenticated request and the
// admission webhook refuses a user-made one: they say who created a server or asked for an
// action, and Nova shows them as user_id.
const (
	// AnnotationUserID is the user who created a Server or asked for a ServerAction.
	AnnotationUserID = NovaAPIGroup + "/user-id"
	// AnnotationRequestID is Nova's request id of the call that created a server, set in
	// the create itself: the create instance action is read from the server, with no write
	// of its own.
	AnnotationRequestID = NovaAPIGroup + "/request-id"
	// AnnotationKeypairName is the Nova name of a Keypair made before spec.name existed.
	AnnotationKeypairName = NovaAPIGroup + "/name"
)

// ForcesHost says whether an availability zone names a host ("zone:host", "zone:host:node"
// or "zone::node"), which Nova lets only its admin ask for: one rule for every way a server
// is asked for (kubectl, /v2.1, FlexCloud).
func ForcesHost(zone string) bool { return strings.Contains(zone, ":") }
