package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Image sharing is split by who decides what. Whether a tenant is a member of a shared
// image is the owner's decision, so it is desired state on the owner's Image
// (spec.members). Whether the member takes the image (Glance's member status) is the
// member's decision, so it is the member's own object in the member's namespace: an
// ImageMember, which the member's RBAC (kova-admin there) writes and nobody in the owner's
// tenant can. Neither side ever needs write access to the other's namespace, and a member
// that never answered has no ImageMember at all (Glance's pending).

// ImageMemberStatus is a member's answer, in Glance's words.
// +kubebuilder:validation:Enum=pending;accepted;rejected
type ImageMemberStatus string

// Glance's member statuses.
const (
	ImageMemberPending  ImageMemberStatus = "pending"
	ImageMemberAccepted ImageMemberStatus = "accepted"
	ImageMemberRejected ImageMemberStatus = "rejected"
)

// ImageMemberSpec is a member's answer to one shared image.
type ImageMemberSpec struct {
	// ImageNamespace is the namespace of the shared image (Glance's image owner); the
	// ImageMember's own name is the image's id (its uid), so a tenant has one answer per image.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.imageNamespace is immutable"
	ImageNamespace string `json:"imageNamespace"`
	// Status is pending, accepted or rejected. Only accepted images are listed by default
	// and may be booted from.
	Status ImageMemberStatus `json:"status"`
}

// ImageMember is a tenant's answer to an image another tenant shares with it. Its name is
// the image's id.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Image Namespace",type=string,JSONPath=`.spec.imageNamespace`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.spec.status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageMember struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ImageMemberSpec `json:"spec"`
}

// ImageMemberList is a list of image members.
// +kubebuilder:object:root=true
type ImageMemberList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageMember `json:"items"`
}

func init() { register(&ImageMember{}, &ImageMemberList{}) }
