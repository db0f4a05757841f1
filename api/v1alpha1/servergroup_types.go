package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Server group policies (Nova's os-server-groups).
const (
	ServerGroupAffinity         = "affinity"
	ServerGroupAntiAffinity     = "anti-affinity"
	ServerGroupSoftAffinity     = "soft-affinity"
	ServerGroupSoftAntiAffinity = "soft-anti-affinity"
)

// ServerGroupRules are a group's rules (microversion 2.64).
type ServerGroupRules struct {
	// MaxServerPerHost is how many members one host may hold (anti-affinity only); absent
	// means 1.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxServerPerHost *int32 `json:"maxServerPerHost,omitempty"`
}

// ServerGroupSpec is Nova's server group. Nova has no call that changes a group, so
// nothing in it changes either.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a server group's spec is immutable"
// +kubebuilder:validation:XValidation:rule="!has(self.rules) || !has(self.rules.maxServerPerHost) || self.policy == 'anti-affinity'",message="Only anti-affinity policy supports rules."
type ServerGroupSpec struct {
	// Name is the group's Nova name; several groups may share one.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name string `json:"name"`
	// Policy places the members: on one host (affinity), on distinct hosts
	// (anti-affinity), or the same as best effort (the soft ones).
	// +kubebuilder:validation:Enum=affinity;anti-affinity;soft-affinity;soft-anti-affinity
	Policy string `json:"policy"`
	// +optional
	Rules *ServerGroupRules `json:"rules,omitempty"`
	// UserID is the user who made the group (Nova's user_id), set by the admission
	// webhook to the creating user whatever the request said.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	UserID string `json:"userID,omitempty"`
}

// ServerGroup is a set of servers placed by one policy. Its id in the compute API is its
// uid, and its object name is generated (Nova lets several groups share a name). Servers
// join it at boot by naming it in spec.serverGroup; its members are the servers that do.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.spec.policy`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.userID`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServerGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ServerGroupSpec `json:"spec"`
}

// MaxServerPerHost is the group's max_server_per_host, 0 when it has none.
func (g *ServerGroup) MaxServerPerHost() int {
	if g.Spec.Rules == nil || g.Spec.Rules.MaxServerPerHost == nil {
		return 0
	}
	return int(*g.Spec.Rules.MaxServerPerHost)
}

// ServerGroupList is a list of server groups.
// +kubebuilder:object:root=true
type ServerGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServerGroup `json:"items"`
}

func init() { register(&ServerGroup{}, &ServerGroupList{}) }
