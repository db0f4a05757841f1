package v1alpha1

// A volume is a PersistentVolumeClaim of the server's namespace; its Nova id is the claim's
// uid. Attachments are desired state, in Server.spec.volumes, so they live in Git with the
// server; the controller attaches them through the compute driver and records each in
// Server.status.volumeAttachments. A claim in use holds VolumeFinalizer and names its server
// in AnnotationAttachedTo, so it cannot be deleted out from under the server (a delete
// waits, Terminating, until the volume is detached) nor be attached to a second server
// (Nova's volumes here are not multiattach).

// VolumeFinalizer is on a PersistentVolumeClaim while a server has it attached.
const VolumeFinalizer = "compute.kova.dev/volume-attached"

// AnnotationAttachedTo names, on a PersistentVolumeClaim, the uid of the server it is
// attached to.
const AnnotationAttachedTo = "compute.kova.dev/attached-to"

// MaxVolumes bounds a server's volumes: one per letter of vdb to vdz after the root disk.
const MaxVolumes = 25

// VolumeAttachment puts a volume (a claim) on a server.
type VolumeAttachment struct {
	// ClaimName is the PersistentVolumeClaim in the server's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ClaimName string `json:"claimName"`
	// Device is the device name the volume gets (/dev/vdb, ...); empty takes the next free
	// one after the root disk, as Nova does. It does not change once attached.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^/dev/x?[a-z]?d?[a-z]+[0-9]*$`
	Device string `json:"device,omitempty"`
	// Tag is Nova's device tag (from microversion 2.49).
	// +optional
	// +kubebuilder:validation:MaxLength=60
	// +kubebuilder:validation:Pattern=`^[^,/]*$`
	Tag string `json:"tag,omitempty"`
	// DeleteOnTermination deletes the claim when the server is deleted (from 2.79).
	// +optional
	DeleteOnTermination bool `json:"deleteOnTermination,omitempty"`
}

// ServerVolumeAttachment is a volume the backend has attached.
type ServerVolumeAttachment struct {
	// ID is the attachment's id: the volume id, as Nova's os-volume_attachments shows it.
	ID string `json:"id"`
	// ServerID is the server's uid.
	ServerID string `json:"serverId"`
	// VolumeID is the claim's uid.
	VolumeID string `json:"volumeId"`
	// ClaimName is the claim.
	ClaimName string `json:"claimName"`
	// Device is the device name it has.
	Device string `json:"device"`
}
