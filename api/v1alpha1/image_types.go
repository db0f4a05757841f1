package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ImagePhase is Glance's image status.
// +kubebuilder:validation:Enum=queued;saving;active;killed;deleted
type ImagePhase string

// Glance's image statuses.
const (
	ImageQueued  ImagePhase = "queued"
	ImageSaving  ImagePhase = "saving"
	ImageActive  ImagePhase = "active"
	ImageKilled  ImagePhase = "killed"
	ImageDeleted ImagePhase = "deleted"
)

// Glance's image visibilities (ImageSpec.Visibility).
const (
	ImagePublic    = "public"
	ImagePrivate   = "private"
	ImageShared    = "shared"
	ImageCommunity = "community"
)

// ImageSource says where an image's bits come from: a URL (the disk), a snapshot of a
// server (createImage), or data uploaded through the image API (Glance's PUT .../file),
// which the image API stores and is the status writer of.
// +kubebuilder:validation:XValidation:rule="[has(self.url), has(self.serverSnapshot), has(self.upload)].filter(x, x).size() == 1",message="set exactly one of url, serverSnapshot or upload"
type ImageSource struct {
	// URL of the disk (a container disk reference or an HTTP(S) URL for the KubeVirt driver).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// ServerSnapshot marks an image made by createImage from a server in this namespace.
	// +optional
	ServerSnapshot *ServerSnapshotSource `json:"serverSnapshot,omitempty"`

	// Upload marks an image made through the image API, whose data is uploaded to Kova's
	// image store (PUT /image/v2/images/{id}/file).
	// +optional
	Upload *UploadSource `json:"upload,omitempty"`
}

// UploadSource is an image whose data Kova's image store holds, by the image's uid.
type UploadSource struct{}

// ServerSnapshotSource names the server an image was taken from.
type ServerSnapshotSource struct {
	// ServerName is the Server's metadata.name.
	// +kubebuilder:validation:MinLength=1
	ServerName string `json:"serverName"`
	// ServerUID is the Server's uid (its Nova id).
	// +kubebuilder:validation:MinLength=1
	ServerUID string `json:"serverUID"`
}

// ImageSpec describes an OS image. Its content is immutable; metadata may change.
type ImageSpec struct {
	// Name is the image's display name. Defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Name string `json:"name,omitempty"`

	// Source of the image's content; immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.source is immutable"
	Source ImageSource `json:"source"`

	// DiskFormat as Glance names it.
	// +kubebuilder:validation:Enum=ami;ari;aki;vhd;vhdx;vmdk;raw;qcow2;vdi;iso;ploop
	// +kubebuilder:default=qcow2
	DiskFormat string `json:"diskFormat,omitempty"`

	// ContainerFormat as Glance names it.
	// +kubebuilder:validation:Enum=ami;ari;aki;bare;ovf;ova;docker;compressed
	// +kubebuilder:default=bare
	ContainerFormat string `json:"containerFormat,omitempty"`

	// MinDisk is the smallest root disk, in GiB, a server of this image needs.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinDisk int64 `json:"minDisk,omitempty"`

	// MinRAM is the smallest RAM, in MiB, a server of this image needs.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinRAM int64 `json:"minRam,omitempty"`

	// Visibility: public images live in the public image namespace and every tenant sees them.
	// +kubebuilder:validation:Enum=public;private;shared;community
	// +kubebuilder:default=private
	Visibility string `json:"visibility,omitempty"`

	// Metadata are the image's properties (os_distro, os_version, ...).
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	Metadata map[string]string `json:"metadata,omitempty"`

	// Tags are Glance's image tags: a set of at most 128, each 1-255 characters.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	// +listType=set
	Tags []string `json:"tags,omitempty"`

	// Protected images cannot be deleted (Glance's protected).
	// +optional
	Protected bool `json:"protected,omitempty"`

	// Members are the tenants (projects, i.e. namespaces) a shared image is shared with:
	// the owner's half of Glance's image membership, desired state the owner writes. Each
	// member answers (accepted, rejected) in its own namespace with an ImageMember, which
	// only the member's own RBAC can write: a member never gains any write access to this
	// Image, and the owner never answers for a member. Only a shared image's members see it.
	// At most 128 (Glance's image_member_quota).
	// +optional
	// +listType=map
	// +listMapKey=project
	// +kubebuilder:validation:MaxItems=128
	Members []ImageMembership `json:"members,omitempty"`
}

// MaxImageMembers bounds an image's members (Glance's image_member_quota default).
const MaxImageMembers = 128

// ImageMembership makes a tenant a member of a shared image.
type ImageMembership struct {
	// Project is the member tenant's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Project string `json:"project"`
	// Since is when the tenant became a member (Glance's member created_at). The image API
	// sets it; a membership written without it shows the image's creation time.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
}

// ImageStatus is what the image service observed.
type ImageStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Status is Glance's: queued, saving, active, killed or deleted.
	// +optional
	Status ImagePhase `json:"status,omitempty"`
	// Progress of a snapshot upload, 0-100.
	// +optional
	Progress int32 `json:"progress,omitempty"`
	// SizeBytes of the image once active.
	// +optional
	SizeBytes int64 `json:"sizeBytes,omitempty"`
	// Checksum is the MD5 of uploaded data, OSHashAlgo and OSHashValue its multihash
	// (Glance's checksum, os_hash_algo and os_hash_value).
	// +optional
	Checksum string `json:"checksum,omitempty"`
	// +optional
	OSHashAlgo string `json:"osHashAlgo,omitempty"`
	// +optional
	OSHashValue string `json:"osHashValue,omitempty"`
	// Updated is when the status last changed.
	// +optional
	Updated *metav1.Time `json:"updated,omitempty"`
}

// Image is an OS image servers boot from. Its uid is its Nova/Glance id.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.status`
// +kubebuilder:printcolumn:name="Visibility",type=string,JSONPath=`.spec.visibility`
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.diskFormat`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Image struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ImageSpec `json:"spec"`
	// +optional
	Status ImageStatus `json:"status,omitempty"`
}

// DisplayName is the image's Glance name.
func (i *Image) DisplayName() string {
	if i.Spec.Name != "" {
		return i.Spec.Name
	}
	return i.Name
}

// ImageList is a list of images.
// +kubebuilder:object:root=true
type ImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Image `json:"items"`
}

func init() { register(&Image{}, &ImageList{}) }
