package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// FloatingIPSpec is a floating address a tenant holds on an external network (Nova's
// os-floating-ips, Neutron's floatingips), and the server it points at.
// +kubebuilder:validation:XValidation:rule="self.pool == oldSelf.pool",message="spec.pool is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.address) || (has(self.address) && self.address == oldSelf.address)",message="spec.address is immutable"
type FloatingIPSpec struct {
	// Pool is the external Network (spec.external) in the public namespace the address
	// comes from, by metadata.name or label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Pool string `json:"pool"`
	// Address asks for one address of the pool; empty means the next free one.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="spec.address must be an IP address"
	// +optional
	Address string `json:"address,omitempty"`
	// Server is the metadata.name of the server (of the same namespace) the address points
	// at; empty means none.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Server string `json:"server,omitempty"`
	// FixedIP is the server's fixed address it points at; empty means the server's first
	// IPv4 address.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="spec.fixedIP must be an IP address"
	// +optional
	FixedIP string `json:"fixedIP,omitempty"`
}

// FloatingIPStatus is the address the manager allocated.
type FloatingIPStatus struct {
	// Address held, once allocated. The FloatingIP's status is the record of it: the
	// manager rebuilds its allocations from these at start, as it does from servers'.
	// +optional
	Address string `json:"address,omitempty"`
	// NetworkNamespace and NetworkName name the pool's Network object.
	// +optional
	NetworkNamespace string `json:"networkNamespace,omitempty"`
	// +optional
	NetworkName string `json:"networkName,omitempty"`
	// Failure says why no address could be allocated (NoMoreFloatingIps,
	// FloatingIpPoolNotFound, FixedIpAlreadyInUse, InvalidFixedIp); the manager does not
	// try again until the spec changes.
	// +optional
	Failure *FloatingIPFailure `json:"failure,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// FloatingIPFailure is why an allocation failed.
type FloatingIPFailure struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// FloatingIP is one floating address of a tenant. Its id in the compute and networking
// APIs is its uid.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Pool",type=string,JSONPath=`.spec.pool`
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.status.address`
// +kubebuilder:printcolumn:name="Server",type=string,JSONPath=`.spec.server`
// +kubebuilder:printcolumn:name="Fixed IP",type=string,JSONPath=`.spec.fixedIP`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FloatingIP struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FloatingIPSpec `json:"spec"`
	// +optional
	Status FloatingIPStatus `json:"status,omitempty"`
}

// FloatingIPFinalizer holds a FloatingIP until the manager has freed its address.
const FloatingIPFinalizer = "compute.kova.dev/floating-ip"

// FloatingIPList is a list of floating IPs.
// +kubebuilder:object:root=true
type FloatingIPList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FloatingIP `json:"items"`
}

func init() { register(&FloatingIP{}, &FloatingIPList{}) }
