package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// NetworkSpec is a tenant network with one IPv4 or IPv6 subnet.
type NetworkSpec struct {
	// Label is the network's display name, the key of a server's addresses. Defaults to
	// metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Label string `json:"label,omitempty"`

	// CIDR of the subnet, e.g. 10.0.0.0/24; immutable.
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="spec.cidr must be a CIDR such as 10.0.0.0/24"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.cidr is immutable"
	// +kubebuilder:validation:MaxLength=64
	CIDR string `json:"cidr"`

	// Gateway address; defaults to the first address of the CIDR. Never allocated to a server.
	// +optional
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="spec.gateway must be an IP address"
	// +kubebuilder:validation:MaxLength=64
	Gateway string `json:"gateway,omitempty"`

	// Shared networks may be used by servers of every tenant.
	// +optional
	Shared bool `json:"shared,omitempty"`
}

// NetworkStatus counts the network's addresses.
type NetworkStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Allocated addresses.
	// +optional
	Allocated int64 `json:"allocated"`
	// Capacity is how many addresses servers can get (the CIDR less network, broadcast and gateway).
	// +optional
	Capacity int64 `json:"capacity,omitempty"`
}

// Network is a tenant network. The addresses servers hold on it are recorded in the
// servers' status (see internal/ipam); status.allocated counts them.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidr`
// +kubebuilder:printcolumn:name="Shared",type=boolean,JSONPath=`.spec.shared`
// +kubebuilder:printcolumn:name="Allocated",type=integer,JSONPath=`.status.allocated`
// +kubebuilder:printcolumn:name="Capacity",type=integer,JSONPath=`.status.capacity`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Network struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec NetworkSpec `json:"spec"`
	// +optional
	Status NetworkStatus `json:"status,omitempty"`
}

// DisplayName is the network's label.
func (n *Network) DisplayName() string {
	if n.Spec.Label != "" {
		return n.Spec.Label
	}
	return n.Name
}

// NetworkList is a list of networks.
// +kubebuilder:object:root=true
type NetworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Network `json:"items"`
}

func init() {
	register(&Network{}, &NetworkList{})
}
