package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ActionType is an action on a server. Those with a desired-state form in Server.spec
// (stop, resize, lock, ...) are the ones the REST API takes: a REST call is an imperative
// request and never writes spec, and the controller records the ones a spec change starts
// as ServerActions too (LabelFromSpec), so os-instance-actions has one source.
// delete is a record only (LabelFromSpec): a server is deleted by deleting the Server.
// +kubebuilder:validation:Enum=reboot;rebuild;createImage;changePassword;confirmResize;revertResize;shelveOffload;stop;start;pause;unpause;suspend;resume;shelve;unshelve;rescue;unrescue;resize;lock;unlock;delete
type ActionType string

// Action types.
const (
	ActionReboot         ActionType = "reboot"
	ActionRebuild        ActionType = "rebuild"
	ActionCreateImage    ActionType = "createImage"
	ActionChangePassword ActionType = "changePassword"
	ActionConfirmResize  ActionType = "confirmResize"
	ActionRevertResize   ActionType = "revertResize"
	ActionShelveOffload  ActionType = "shelveOffload"
	ActionStop           ActionType = "stop"
	ActionStart          ActionType = "start"
	ActionPause          ActionType = "pause"
	ActionUnpause        ActionType = "unpause"
	ActionSuspend        ActionType = "suspend"
	ActionResume         ActionType = "resume"
	ActionShelve         ActionType = "shelve"
	ActionUnshelve       ActionType = "unshelve"
	ActionRescue         ActionType = "rescue"
	ActionUnrescue       ActionType = "unrescue"
	ActionResize         ActionType = "resize"
	ActionLock           ActionType = "lock"
	ActionUnlock         ActionType = "unlock"
	ActionDelete         ActionType = "delete"
)

// LabelFromSpec marks a ServerAction Kova wrote as the record of an action no ServerAction
// asked for: one a spec change started, or the server's delete. A record, never a request,
// so the controller does not carry it out.
const LabelFromSpec = "compute.kova.dev/from-spec"

// LabelServerUID is the uid of the server a ServerAction is for, stamped by the admission
// webhook (or by Kova on its records). A server's history outlives it (os-instance-actions
// of a deleted server, from 2.21): its ServerActions have no owner, are found by this label
// once the server is gone, and are removed together a retention after its delete.
const LabelServerUID = "compute.kova.dev/server-uid"

// Annotations of a delete record (the ServerAction with action delete that the admission
// webhook writes as a server is deleted). They keep the server's create, which Nova lists
// with a deleted server's actions and which is otherwise read from the server itself.
const (
	AnnotationServerCreatedAt       = "compute.kova.dev/server-created-at"
	AnnotationServerCreatedBy       = "compute.kova.dev/server-created-by"
	AnnotationServerCreateRequestID = "compute.kova.dev/server-create-request-id"
)

// RebootParams chooses a soft or hard reboot.
type RebootParams struct {
	// +kubebuilder:validation:Enum=SOFT;HARD
	// +kubebuilder:default=SOFT
	// +optional
	Type string `json:"type"`
}

// RebuildParams rebuilds the server from its image (or, if set, another one), and may give
// it another keypair (Nova's key_name from 2.54) and user data (user_data from 2.57). A
// field left out keeps what the server has; "" removes it (Nova's null).
type RebuildParams struct {
	// ImageRef of the image to rebuild from; defaults to the server's image.
	// +optional
	ImageRef string `json:"imageRef,omitempty"`
	// KeyName is the name of one of the requester's keypairs in this namespace, as Nova
	// looks a rebuild's key_name up among the caller's keypairs; "" removes the keypair.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	KeyName *string `json:"keyName,omitempty"`
	// UserData is the new user data, base64, as spec.userData; "" removes it.
	// +optional
	// +kubebuilder:validation:MaxLength=65535
	UserData *string `json:"userData,omitempty"`
}

// ResizeParams names the flavor to resize to.
type ResizeParams struct {
	// FlavorRef is the Flavor's metadata.name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	FlavorRef string `json:"flavorRef"`
}

// LockParams says why a server is locked (Nova's locked_reason, from 2.73).
type LockParams struct {
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Reason string `json:"reason,omitempty"`
}

// CreateImageParams names the snapshot to make.
type CreateImageParams struct {
	// ImageName is the new image's display name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	ImageName string `json:"imageName"`
	// Metadata for the new image.
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	Metadata map[string]string `json:"metadata,omitempty"`
	// Backup makes the image a backup (Nova's createBackup): once it is active, the
	// server's older backups of the same type beyond the rotation are deleted.
	// +optional
	Backup *BackupParams `json:"backup,omitempty"`
}

// BackupParams are createBackup's: the backup's type (e.g. daily) and how many backups of
// that type the server keeps.
type BackupParams struct {
	// Type is Nova's backup_type, any string.
	// +kubebuilder:validation:MaxLength=255
	Type string `json:"type"`
	// Rotation is how many backups of this type to keep, the new one included; 0 keeps none.
	// +kubebuilder:validation:Minimum=0
	Rotation int32 `json:"rotation"`
}

// ChangePasswordParams points at the new password. It lives in a Secret, never in this
// object, and the controller deletes the Secret once the password is set.
type ChangePasswordParams struct {
	// SecretName is a Secret in this namespace with the password under key "password".
	// +kubebuilder:validation:MinLength=1
	SecretName string `json:"secretName"`
}

// ServerActionSpec is one action on one server. It is immutable: an action is a record.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a ServerAction is immutable; create a new one"
// +kubebuilder:validation:XValidation:rule="self.action != 'createImage' || has(self.createImage)",message="createImage needs spec.createImage.imageName"
// +kubebuilder:validation:XValidation:rule="self.action != 'changePassword' || has(self.changePassword)",message="changePassword needs spec.changePassword.secretName"
// +kubebuilder:validation:XValidation:rule="self.action != 'resize' || has(self.resize)",message="resize needs spec.resize.flavorRef"
type ServerActionSpec struct {
	// ServerName is the Server's metadata.name in this namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName"`

	// Action to take.
	Action ActionType `json:"action"`

	// +optional
	Reboot *RebootParams `json:"reboot,omitempty"`
	// +optional
	Rebuild *RebuildParams `json:"rebuild,omitempty"`
	// +optional
	Resize *ResizeParams `json:"resize,omitempty"`
	// +optional
	Lock *LockParams `json:"lock,omitempty"`
	// +optional
	CreateImage *CreateImageParams `json:"createImage,omitempty"`
	// +optional
	ChangePassword *ChangePasswordParams `json:"changePassword,omitempty"`

	// RequestedBy is the user who asked; the admission webhook sets it from the request.
	// +optional
	RequestedBy string `json:"requestedBy,omitempty"`
	// OverrideLock is true when the requester may act on a locked server (Nova's admin);
	// the admission webhook sets it from a SubjectAccessReview for the verb override-lock.
	// +optional
	OverrideLock bool `json:"overrideLock,omitempty"`
	// RequestID is Nova's request id (req-<uuid>); the admission webhook sets one if absent.
	// +optional
	RequestID string `json:"requestID,omitempty"`
}

// ActionPhase is where an action stands.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed
type ActionPhase string

// Action phases.
const (
	ActionPending   ActionPhase = "Pending"
	ActionRunning   ActionPhase = "Running"
	ActionSucceeded ActionPhase = "Succeeded"
	ActionFailed    ActionPhase = "Failed"
)

// Ended says whether an action in phase p is done with, either way: the controller never
// changes it again, so a cached copy of an ended action is current.
func (p ActionPhase) Ended() bool { return p == ActionSucceeded || p == ActionFailed }

// ServerActionStatus is the outcome, written by the server controller.
type ServerActionStatus struct {
	// +optional
	Phase ActionPhase `json:"phase,omitempty"`
	// Message says why an action failed (Nova's conflict message when the lifecycle refused it).
	// +optional
	Message string `json:"message,omitempty"`
	// ServerUID is the uid of the server it was applied to.
	// +optional
	ServerUID string `json:"serverUID,omitempty"`
	// ImageName is the Image created by createImage.
	// +optional
	ImageName string `json:"imageName,omitempty"`
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// The REST shim lists a server's actions past its cache (its os-instance-actions), so every
// replica shows one as soon as it is accepted: the server's name can select.
// +kubebuilder:selectablefield:JSONPath=`.spec.serverName`

// ServerAction is one action on a server and its outcome: the audit trail behind
// os-instance-actions.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.serverName`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.spec.action`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="By",type=string,JSONPath=`.spec.requestedBy`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServerAction struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ServerActionSpec `json:"spec"`
	// +optional
	Status ServerActionStatus `json:"status,omitempty"`
}

// ServerActionList is a list of server actions.
// +kubebuilder:object:root=true
type ServerActionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServerAction `json:"items"`
}

func init() { register(&ServerAction{}, &ServerActionList{}) }
