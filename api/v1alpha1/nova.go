package v1alpha1

import (
	"errors"
	"strings"
)

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
	// AnnotationDeleteRequestID and AnnotationDeleteRequestedBy are Nova's request id of a
	// REST DELETE of a server and its caller, which the REST shim puts on the server just
	// before it deletes it: the admission webhook that records the delete sees the server,
	// not the REST request. The id is taken only for a delete by the user named.
	AnnotationDeleteRequestID   = NovaAPIGroup + "/delete-request-id"
	AnnotationDeleteRequestedBy = NovaAPIGroup + "/delete-requested-by"
	// AnnotationKeypairName is the Nova name of a Keypair made before spec.name existed.
	AnnotationKeypairName = NovaAPIGroup + "/name"
)

// ErrZoneUnparsable is Nova's InvalidInput reason for an availability zone with more than two
// colons; the API answers it as 400 "Invalid input received: Unable to parse availability_zone".
var ErrZoneUnparsable = errors.New("Unable to parse availability_zone")

// ParseAvailabilityZone splits an availability zone as Nova's parse_availability_zone does:
// "zone:host" and "zone:host:node" force a host (and its node), "zone::node" a node, and
// zone is what remains ("" for ":host", which Nova leaves to the default zone). More than
// two colons is ErrZoneUnparsable. One home for every reader of spec.availabilityZone:
// admission, the REST shim, the views and the placement the controller asks the driver for.
func ParseAvailabilityZone(az string) (zone, host, node string, err error) {
	switch strings.Count(az, ":") {
	case 0:
		return az, "", "", nil
	case 1:
		zone, host, _ = strings.Cut(az, ":")
		return zone, host, "", nil
	case 2:
		if zone, node, ok := strings.Cut(az, "::"); ok {
			return zone, "", node, nil
		}
		parts := strings.Split(az, ":")
		return parts[0], parts[1], parts[2], nil
	}
	return "", "", "", ErrZoneUnparsable
}

// ForcesHost says whether an availability zone names a host or a node ("zone:host",
// "zone:host:node" or "zone::node"), which Nova lets only its admin ask for: one rule for
// every way a server is asked for (kubectl, /v2.1, FlexCloud). An unparsable zone forces
// nothing: it is refused as invalid before any policy is asked, as in Nova.
func ForcesHost(az string) bool {
	_, host, node, err := ParseAvailabilityZone(az)
	return err == nil && (host != "" || node != "")
}
