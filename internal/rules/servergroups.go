package rules

import "fmt"

// Server groups, one rule for the shim, the webhook and the controller alike.

// FieldServerGroup is the Server CRD's selectable field (api/v1alpha1) naming the group a
// server boots into: the API server answers a field selector on it, so a group's members
// are read past the cache with one LIST, and the caches index it under the same name.
const FieldServerGroup = "spec.serverGroup"

// Nova's words for the server group quotas (nova/api/openstack/compute/server_groups.py,
// nova/compute/api.py): the webhook refuses with them, the shim answers them as its 403.
const (
	MsgServerGroupQuota        = "Quota exceeded, too many server groups."
	MsgServerGroupMembersQuota = "Quota exceeded, too many servers in group"
)

// ServerGroupNotFound is Nova's InstanceGroupNotFound message.
func ServerGroupNotFound(id string) string {
	return fmt.Sprintf("Instance group %s could not be found.", id)
}
