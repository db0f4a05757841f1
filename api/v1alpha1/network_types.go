package v1alpha1

import (
	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

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

	// External networks, in the public namespace, are floating IP pools (Neutron's
	// router:external): tenants' FloatingIPs take their addresses from it, from the same
	// range as its servers' fixed addresses, so the two never clash.
	// +optional
	External bool `json:"external,omitempty"`
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
// servers' status (see internal/ipam); status.allocated counts them. Its id in the
// compute and networking APIs is its name when the name is a UUID, else its uid (NovaID).
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

// NovaID is the network's id in the compute (os-networksv2, networks on boot) and
// networking APIs: its metadata.name when that is a UUID in canonical form, else its uid.
// A name is the one id a creator can choose: Rackspace's shared networks have fixed ids
// (00000000-0000-0000-0000-000000000000 is public, 11111111-1111-1111-1111-111111111111
// ServiceNet), and a network made through the REST API is named by a new UUID, so its id
// is known before the create and is a plain GET away.
func (n *Network) NovaID() string {
	if IsNetworkID(n.Name) {
		return n.Name
	}
	return string(n.UID)
}

// IsNetworkID says whether name is a UUID in the canonical form a Network's name can take
// (lower case, with hyphens), and so a network's id when it is a name.
func IsNetworkID(name string) bool {
	u, err := uuid.Parse(name)
	return err == nil && u.String() == name
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
