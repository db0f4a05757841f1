package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// FlavorSpec is the hardware of a server. Nova flavors are immutable once created (only the
// description may change), so is this spec.
// +kubebuilder:validation:XValidation:rule="self.vcpus == oldSelf.vcpus && self.ram == oldSelf.ram && self.disk == oldSelf.disk && self.ephemeral == oldSelf.ephemeral && self.swap == oldSelf.swap",message="a flavor's vcpus, ram, disk, ephemeral and swap are immutable; create a new flavor"
type FlavorSpec struct {
	// Name is the flavor's display name (e.g. m1.small). Defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Name string `json:"name,omitempty"`

	// Description is free text shown from microversion 2.55.
	// +optional
	// +kubebuilder:validation:MaxLength=65535
	Description string `json:"description,omitempty"`

	// VCPUs is the number of virtual CPUs.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1024
	VCPUs int32 `json:"vcpus"`

	// RAM in MiB.
	// +kubebuilder:validation:Minimum=1
	RAM int64 `json:"ram"`

	// Disk is the root disk in GiB; 0 means the image's size.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	// +optional
	Disk int64 `json:"disk"`

	// Ephemeral disk in GiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	// +optional
	Ephemeral int64 `json:"ephemeral"`

	// Swap in MiB.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	// +optional
	Swap int64 `json:"swap"`

	// RxTxFactor is kept for clients that read it.
	// +optional
	RxTxFactor string `json:"rxtxFactor,omitempty"`

	// IsPublic flavors are visible to every tenant.
	// +kubebuilder:default=true
	// +optional
	IsPublic bool `json:"isPublic"`

	// ExtraSpecs are free key/value pairs (hw:cpu_policy, ...).
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	ExtraSpecs map[string]string `json:"extraSpecs,omitempty"`
}

// Flavor is a size a server can have: vCPUs, RAM and disk. Its name is its Nova id.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=kova
// +kubebuilder:printcolumn:name="VCPUs",type=integer,JSONPath=`.spec.vcpus`
// +kubebuilder:printcolumn:name="RAM",type=integer,JSONPath=`.spec.ram`
// +kubebuilder:printcolumn:name="Disk",type=integer,JSONPath=`.spec.disk`
// +kubebuilder:printcolumn:name="Public",type=boolean,JSONPath=`.spec.isPublic`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Flavor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FlavorSpec `json:"spec"`
}

// DisplayName is the flavor's Nova name.
func (f *Flavor) DisplayName() string {
	if f.Spec.Name != "" {
		return f.Spec.Name
	}
	return f.Name
}

// FlavorList is a list of flavors.
// +kubebuilder:object:root=true
type FlavorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Flavor `json:"items"`
}

func init() { register(&Flavor{}, &FlavorList{}) }
