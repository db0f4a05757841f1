package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PowerState is the power a server should be in.
// +kubebuilder:validation:Enum=Active;Stopped;Paused;Suspended;Shelved
type PowerState string

// Desired power states. Shelved ends SHELVED_OFFLOADED when the manager offloads at once
// (Nova's default shelved_offload_time of 0).
const (
	PowerActive    PowerState = "Active"
	PowerStopped   PowerState = "Stopped"
	PowerPaused    PowerState = "Paused"
	PowerSuspended PowerState = "Suspended"
	PowerShelved   PowerState = "Shelved"
)

// NetworkAttachment puts a server on a network.
type NetworkAttachment struct {
	// Name of a Network in the server's namespace, or of a shared one in the public namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// FixedIP asks for one address; empty means the next free one.
	// +optional
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="fixedIP must be an IP address"
	// +kubebuilder:validation:MaxLength=64
	FixedIP string `json:"fixedIP,omitempty"`
}

// ServerSpec is the desired state of a server. A change of flavorRef is a resize, of
// imageRef a rebuild, of powerState a stop, start, pause, suspend or shelve.
// +kubebuilder:validation:XValidation:rule="self.keyName == oldSelf.keyName",message="spec.keyName is immutable"
// +kubebuilder:validation:XValidation:rule="self.availabilityZone == oldSelf.availabilityZone",message="spec.availabilityZone is immutable"
// +kubebuilder:validation:XValidation:rule="self.userData == oldSelf.userData",message="spec.userData is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.serverGroup) == has(oldSelf.serverGroup) && (!has(self.serverGroup) || self.serverGroup == oldSelf.serverGroup)",message="spec.serverGroup is immutable"
type ServerSpec struct {
	// Name is the server's Nova name (any text); defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.trim() == self",message="spec.name must not begin or end with white space"
	Name string `json:"name,omitempty"`

	// FlavorRef is the Flavor's metadata.name (its Nova id). Changing it resizes the server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	FlavorRef string `json:"flavorRef"`

	// ImageRef is the Image's metadata.name, in the server's namespace or the public image
	// namespace, or namespace/name for another tenant's image: a community one, or one it
	// shares with this tenant and this tenant accepted (an ImageMember). Changing it rebuilds
	// the server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	ImageRef string `json:"imageRef"`

	// KeyName is a Keypair in the server's namespace; immutable: a rebuild that gives the
	// server another keypair records it in status.keyName.
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=255
	// +optional
	KeyName string `json:"keyName"`

	// Networks the server has a port on: each entry is one virtual interface (Rackspace's
	// os-virtual-interfacesv2, Nova's os-interface), at most one per network. Adding an
	// entry to a running server attaches the network (a new address and MAC), removing one
	// detaches it and frees its address; an entry's fixedIP does not change once attached.
	// Interfaces are this list rather than a kind of their own because an interface has no
	// life apart from its server: it is made with the server (networks at boot), by the
	// same addresses the controller already allocates from this list, and dies with it, and
	// a GitOps manifest that lists a server's networks is then the whole truth about them.
	// Its id is derived from the server's uid and the network (rules.InterfaceID), so it
	// needs no field.
	// +kubebuilder:default={}
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Networks []NetworkAttachment `json:"networks"`

	// Volumes attached to the server (Nova's os-volume_attachments), each a
	// PersistentVolumeClaim of the server's namespace: adding one attaches it, removing one
	// detaches it. See VolumeAttachment.
	// +optional
	// +listType=map
	// +listMapKey=claimName
	// +kubebuilder:validation:MaxItems=25
	Volumes []VolumeAttachment `json:"volumes,omitempty"`

	// SecurityGroups are the names of the SecurityGroups (spec.name, or metadata.name) of
	// the server's namespace the server is in; Nova's default is the tenant's "default"
	// group. Adding a name is Nova's addSecurityGroup, removing one removeSecurityGroup.
	// +kubebuilder:default={default}
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=set
	// +optional
	SecurityGroups []string `json:"securityGroups"`

	// PowerState the server should be in.
	// +kubebuilder:default=Active
	// +optional
	PowerState PowerState `json:"powerState"`

	// Rescue boots the server from a rescue image while true.
	// +optional
	Rescue bool `json:"rescue,omitempty"`

	// Locked servers refuse actions from non-admin users.
	// +optional
	Locked bool `json:"locked,omitempty"`

	// LockedReason is shown from microversion 2.73.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	LockedReason string `json:"lockedReason,omitempty"`

	// Metadata is Nova's server metadata: at most 128 items.
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) >= 1 && size(k) <= 255 && size(self[k]) <= 255)",message="metadata keys must be 1-255 characters and values at most 255"
	Metadata map[string]string `json:"metadata,omitempty"`

	// Description is Nova's server description (from 2.19); absent shows as null.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Description *string `json:"description,omitempty"`

	// Tags are Nova's server tags (from 2.26): a set of at most 50, each 1-60 characters
	// with no comma or slash.
	// +optional
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=60
	// +kubebuilder:validation:items:Pattern=`^[^,/]*$`
	// +listType=set
	Tags []string `json:"tags,omitempty"`

	// AccessIPv4 and AccessIPv6 are the addresses the user says the server is reached at
	// (Nova's accessIPv4 and accessIPv6). Kova shows them and does not act on them.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 4",message="accessIPv4 must be an IPv4 address"
	AccessIPv4 string `json:"accessIPv4,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 6",message="accessIPv6 must be an IPv6 address"
	AccessIPv6 string `json:"accessIPv6,omitempty"`

	// AvailabilityZone to place the server in; immutable.
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=255
	// +optional
	AvailabilityZone string `json:"availabilityZone"`

	// UserData, base64, handed to the server at boot; immutable: a rebuild that gives the
	// server other user data records it in status.userData.
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=65535
	// +optional
	UserData string `json:"userData"`

	// ServerGroup is the metadata.name of the ServerGroup of the server's namespace the
	// server boots into (Nova's scheduler hint "group"); immutable, as Nova has no call
	// that moves a server in or out of a group.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServerGroup string `json:"serverGroup,omitempty"`

	// ImageSchedule, when set, takes scheduled images of the server (Rackspace's
	// rax-si-image-schedule).
	// +optional
	ImageSchedule *ImageSchedule `json:"imageSchedule,omitempty"`
}

// ServerAddress is one address of a server on one network.
type ServerAddress struct {
	// Network label (the key of Nova's addresses map).
	Network string `json:"network"`
	// Address is the IP.
	Address string `json:"addr"`
	// Version is 4 or 6.
	Version int32 `json:"version"`
	// MACAddress of the port.
	// +optional
	MACAddress string `json:"macAddr,omitempty"`
	// Type is fixed or floating.
	Type string `json:"type"`
	// NetworkNamespace and NetworkName name the Network object the address is from (a
	// shared network lives in the public namespace). The server's status is the record of
	// which address it holds: the manager rebuilds its allocations from these at start.
	// +optional
	NetworkNamespace string `json:"networkNamespace,omitempty"`
	// +optional
	NetworkName string `json:"networkName,omitempty"`
}

// ServerFault is the last fault of a server in ERROR, as Nova shows it.
type ServerFault struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
	// +optional
	Details string      `json:"details,omitempty"`
	Created metav1.Time `json:"created"`
}

// ServerBlocked is why a server is not moving toward its spec.
type ServerBlocked struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// ServerOperation is the task the controller is running on the backend.
type ServerOperation struct {
	// Action is the lifecycle action (stop, resize, rebootSoft, ...).
	Action string `json:"action"`
	// Token identifies the backend operation, so a restarted controller resumes it.
	Token string `json:"token"`
	// ServerAction names the ServerAction this task carries out, if any.
	// +optional
	ServerAction string `json:"serverAction,omitempty"`
	// PreviousVMState is the vm_state before the task (Nova's old_vm_state).
	// +optional
	PreviousVMState string `json:"previousVMState,omitempty"`
	// Flavor and Image are the targets of a resize or rebuild.
	// +optional
	Flavor string `json:"flavor,omitempty"`
	// +optional
	Image string `json:"image,omitempty"`
	// Device is what an attach or detach is about: a network as "namespace/name", or a
	// volume's claim name.
	// +optional
	Device string `json:"device,omitempty"`
	// StartedAt is when the task began.
	StartedAt metav1.Time `json:"startedAt"`
}

// ServerDeviceFailure is an attach or detach the backend could not carry out. Nova leaves
// the server as it was (no ERROR) and answers the call with the failure; Kova does not try
// the same spec again: a new change of spec (its generation) does.
type ServerDeviceFailure struct {
	// Action is the lifecycle action (attachInterface, detachVolume, ...).
	Action string `json:"action"`
	// Device is as in ServerOperation.
	Device string `json:"device"`
	// Reason is a CamelCase cause (DriverFault, NoMoreFixedIps, NetworkNotFound).
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Generation is the spec generation that asked for it.
	Generation int64 `json:"generation"`
}

// ServerApplied holds, for each spec field whose change is a Nova action, the value the
// controller last carried out. A spec-driven action fires when spec moves away from it,
// not when spec differs from what the server is: an imperative action (a ServerAction, a
// REST call) changes what the server is (status.flavor, status.image, status.vmState) and
// never spec, and a GitOps tool that applies the same spec again after one finds nothing
// to do. Each field is its own record, because each starts its own action: a resize that
// waits for a stop to finish is not marked done by the stop. A field is recorded when its
// action starts (Nova does not retry a failed action either), and when the server already
// is what the new value asks, so nothing starts.
type ServerApplied struct {
	// +optional
	FlavorRef string `json:"flavorRef,omitempty"`
	// +optional
	ImageRef string `json:"imageRef,omitempty"`
	// +optional
	PowerState PowerState `json:"powerState,omitempty"`
	// +optional
	Rescue bool `json:"rescue,omitempty"`
	// +optional
	Locked bool `json:"locked,omitempty"`
	// +optional
	LockedReason string `json:"lockedReason,omitempty"`
}

// A server's status is atomic to the API server's field manager: the server controller is
// its only writer, so one managed-fields entry names all of it rather than each field (a
// smaller object for every write, watch and metadata LIST to carry).
// +mapType=atomic

// ServerStatus is Nova's view of the server, written only by the server controller.
type ServerStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Status is Nova's API status (BUILD, ACTIVE, SHUTOFF, ...), derived from vmState and
	// taskState by the lifecycle package.
	// +optional
	Status string `json:"status,omitempty"`
	// VMState is Nova's OS-EXT-STS:vm_state.
	// +optional
	VMState string `json:"vmState,omitempty"`
	// TaskState is Nova's OS-EXT-STS:task_state; absent (null) when no task runs.
	// +optional
	TaskState string `json:"taskState,omitempty"`
	// PowerState is Nova's OS-EXT-STS:power_state number.
	// +optional
	PowerState int32 `json:"powerState"`
	// Power is the power state's name as the openstack CLI prints it (Running, Shutdown, ...).
	// +optional
	Power string `json:"power,omitempty"`
	// Progress of a build or resize, 0-100.
	// +optional
	Progress int32 `json:"progress"`

	// Flavor and Image are what the server has now (spec says what it should have).
	// +optional
	Flavor string `json:"flavor,omitempty"`
	// +optional
	Image string `json:"image,omitempty"`
	// +optional
	ImageUID string `json:"imageUID,omitempty"`
	// KeyName and UserData are the keypair (its Nova name, "" for none) and user data a
	// rebuild gave the server in place of those spec.keyName and spec.userData gave it at
	// boot (Nova's rebuild from 2.54 and 2.57). Unset until a rebuild changes them, so user
	// data is stored a second time only on a server rebuilt with new user data.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	KeyName *string `json:"keyName,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=65535
	UserData *string `json:"userData,omitempty"`
	// OldFlavor is the flavor before a resize, until it is confirmed or reverted.
	// +optional
	OldFlavor string `json:"oldFlavor,omitempty"`

	// Host the server runs on, and Nova's hostId (a hash of tenant and host).
	// +optional
	Host string `json:"host,omitempty"`
	// +optional
	HostID string `json:"hostId,omitempty"`

	// Addresses by network.
	// +optional
	// +listType=atomic
	Addresses []ServerAddress `json:"addresses,omitempty"`
	// Networks is the addresses in one line, like `openstack server list` prints them.
	// +optional
	Networks string `json:"networks,omitempty"`

	// Locked is the server's lock and LockedReason why (Nova shows the reason from 2.73),
	// set by a change of spec.locked or by a lock or unlock action.
	// +optional
	Locked bool `json:"locked,omitempty"`
	// +optional
	LockedReason string `json:"lockedReason,omitempty"`

	// Applied is the spec the controller last carried out, field by field: see ServerApplied.
	// +optional
	Applied *ServerApplied `json:"applied,omitempty"`

	// Fault is set while the server is in ERROR.
	// +optional
	Fault *ServerFault `json:"fault,omitempty"`

	// Blocked says why the server is not moving toward its spec: a dependency that is not
	// ready yet, or an action the lifecycle refuses in the current state (Nova's message).
	// +optional
	Blocked *ServerBlocked `json:"blocked,omitempty"`

	// VolumeAttachments are the volumes the backend has attached.
	// +optional
	// +listType=atomic
	VolumeAttachments []ServerVolumeAttachment `json:"volumeAttachments,omitempty"`

	// DeviceFailure is the last attach or detach that failed, until spec changes again.
	// +optional
	DeviceFailure *ServerDeviceFailure `json:"deviceFailure,omitempty"`

	// Operation is the task in flight, if any.
	// +optional
	Operation *ServerOperation `json:"operation,omitempty"`

	// CompletedActions are the ServerActions the server finished last whose outcome was not
	// seen written yet, and the last one (newest last, at most MaxCompletedActions), written
	// in the same status write that shows their end. The
	// action's own outcome is written after it, and read through another watch: until it
	// is seen, this record is what says the action is done, so nothing takes it up again
	// (rules.PendingActions), and the controller completes an outcome whose write was lost
	// from it. Kova's own bookkeeping: Nova has no such field and nova-api shows none.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	CompletedActions []CompletedAction `json:"completedActions,omitempty"`

	// LaunchedAt is when the server first became ACTIVE; Updated when its state last changed.
	// +optional
	LaunchedAt *metav1.Time `json:"launchedAt,omitempty"`
	// +optional
	Updated *metav1.Time `json:"updated,omitempty"`
}

// MaxCompletedActions bounds ServerStatus.CompletedActions. One reconcile ends at most
// one task, and the locks and unlocks it carries out before it; an entry is needed only
// until its action's outcome is written, right after.
const MaxCompletedActions = 8

// MaxCompletedMessage bounds a CompletedAction's message (runes), as Nova's fault message.
const MaxCompletedMessage = 1024

// CompletedAction is a ServerAction a server finished, and how.
type CompletedAction struct {
	// UID is the ServerAction's uid.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	UID types.UID `json:"uid"`
	// Phase is the action's outcome: Succeeded or Failed.
	Phase ActionPhase `json:"phase"`
	// Message is why it failed.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// Server is a compute instance. Its uid is its Nova id.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.spec.serverGroup`
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Task",type=string,JSONPath=`.status.taskState`
// +kubebuilder:printcolumn:name="Power",type=string,JSONPath=`.status.power`
// +kubebuilder:printcolumn:name="Flavor",type=string,JSONPath=`.status.flavor`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.image`
// +kubebuilder:printcolumn:name="Networks",type=string,JSONPath=`.status.networks`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.metadata.uid`,priority=1
// +kubebuilder:printcolumn:name="Resource Version",type=string,JSONPath=`.metadata.resourceVersion`,priority=1
type Server struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ServerSpec `json:"spec"`
	// +optional
	Status ServerStatus `json:"status,omitempty"`
}

// DisplayName is the server's Nova name.
func (s *Server) DisplayName() string {
	if s.Spec.Name != "" {
		return s.Spec.Name
	}
	return s.Name
}

// ServerList is a list of servers.
// +kubebuilder:object:root=true
type ServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Server `json:"items"`
}

func init() { register(&Server{}, &ServerList{}) }
