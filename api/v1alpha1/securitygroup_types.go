package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// SecurityGroupRule is one rule of a group, as Neutron has it. A rule has no id of its own
// to keep: its id is derived from its group's uid and its content (rules.SecurityGroupRuleID),
// since Neutron's rules never change (a change is a delete and a create) and a group never
// holds the same rule twice.
// +kubebuilder:validation:XValidation:rule="!has(self.portRangeMin) || has(self.protocol)",message="a port range needs a protocol"
// +kubebuilder:validation:XValidation:rule="!(has(self.remoteIPPrefix) && has(self.remoteGroup))",message="remoteIPPrefix and remoteGroup are mutually exclusive"
type SecurityGroupRule struct {
	// Direction is ingress (to the server) or egress (from it).
	// +kubebuilder:validation:Enum=ingress;egress
	// +kubebuilder:default=ingress
	// +optional
	Direction string `json:"direction"`
	// Ethertype is IPv4 or IPv6.
	// +kubebuilder:validation:Enum=IPv4;IPv6
	// +kubebuilder:default=IPv4
	// +optional
	Ethertype string `json:"ethertype"`
	// Protocol is tcp, udp or icmp; empty means any.
	// +kubebuilder:validation:Enum=tcp;udp;icmp
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// PortRangeMin and PortRangeMax bound the ports (tcp, udp: 1-65535) or are the ICMP type
	// and code (0-255); absent means all.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	// +optional
	PortRangeMin *int32 `json:"portRangeMin,omitempty"`
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	// +optional
	PortRangeMax *int32 `json:"portRangeMax,omitempty"`
	// RemoteIPPrefix is the CIDR the traffic comes from (ingress) or goes to (egress).
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="remoteIPPrefix must be a CIDR such as 10.0.0.0/24"
	// +optional
	RemoteIPPrefix string `json:"remoteIPPrefix,omitempty"`
	// RemoteGroup is the metadata.name of a SecurityGroup of the same namespace: traffic
	// from (or to) its members.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	RemoteGroup string `json:"remoteGroup,omitempty"`
}

// SecurityGroupSpec is a tenant's security group (Neutron's security group, Nova's
// os-security-groups).
type SecurityGroupSpec struct {
	// Name is the group's name, by which servers name it; defaults to metadata.name.
	// Neutron lets two groups share a name; a server cannot name either then.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Name string `json:"name,omitempty"`
	// Description of the group.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Description string `json:"description,omitempty"`
	// Rules of the group: at most 100 (the size of one group; the tenant's
	// security_group_rules quota counts the rules of all its groups).
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Rules []SecurityGroupRule `json:"rules,omitempty"`
}

// SecurityGroup is a set of traffic rules; servers name the groups they are in
// (Server.spec.securityGroups). Its id in the compute and networking APIs is its uid.
// Every tenant has one named "default" (metadata.name default), made on first use, as
// Neutron makes it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Description",type=string,JSONPath=`.spec.description`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SecurityGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec SecurityGroupSpec `json:"spec,omitempty"`
}

// DisplayName is the group's name.
func (g *SecurityGroup) DisplayName() string {
	if g.Spec.Name != "" {
		return g.Spec.Name
	}
	return g.Name
}

// SecurityGroupList is a list of security groups.
// +kubebuilder:object:root=true
type SecurityGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SecurityGroup `json:"items"`
}

func init() { register(&SecurityGroup{}, &SecurityGroupList{}) }
