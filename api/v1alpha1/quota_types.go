package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// QuotaName is the name of a tenant's one Quota and of the cluster's one QuotaClass (Nova's
// quota class "default").
const QuotaName = "default"

// QuotaLimits are Nova's per-project quotas (os-quota-sets). A field left out takes the
// value of the next level: a tenant's Quota falls back to the QuotaClass "default", which
// falls back to Nova's own defaults (internal/quota). -1 means no limit. The bounds are
// Nova's schema's (-1 to its database's largest integer).
type QuotaLimits struct {
	// Instances is how many servers the tenant may have (Nova default 10).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	Instances *int64 `json:"instances,omitempty"`
	// Cores is how many vCPUs its servers' flavors may add up to (Nova default 20).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	Cores *int64 `json:"cores,omitempty"`
	// RAM is how many MiB its servers' flavors may add up to (Nova default 51200).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	RAM *int64 `json:"ram,omitempty"`
	// KeyPairs is how many keypairs one user may have (Nova default 100).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	KeyPairs *int64 `json:"keyPairs,omitempty"`
	// MetadataItems is how many metadata items a server or image may have (Nova default 128).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	MetadataItems *int64 `json:"metadataItems,omitempty"`
	// ServerGroups is how many server groups the tenant may have (Nova default 10).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	ServerGroups *int64 `json:"serverGroups,omitempty"`
	// ServerGroupMembers is how many servers one server group may hold (Nova default 10).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	ServerGroupMembers *int64 `json:"serverGroupMembers,omitempty"`
	// InjectedFiles is how many personality files a boot may carry (Nova default 5; shown
	// up to microversion 2.56).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	InjectedFiles *int64 `json:"injectedFiles,omitempty"`
	// InjectedFileContentBytes bounds one personality file's content (Nova default 10240).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	InjectedFileContentBytes *int64 `json:"injectedFileContentBytes,omitempty"`
	// InjectedFilePathBytes bounds one personality file's path (Nova default 255).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	InjectedFilePathBytes *int64 `json:"injectedFilePathBytes,omitempty"`
	// FloatingIPs, SecurityGroups and SecurityGroupRules (all the tenant's groups' rules)
	// are the networking service's quotas, enforced by the webhooks with Neutron's defaults
	// (50, 10, 100) and shown by its quotas and by Nova up to microversion 2.35; FixedIPs is
	// shown only (default -1).
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	FloatingIPs *int64 `json:"floatingIPs,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	FixedIPs *int64 `json:"fixedIPs,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	SecurityGroups *int64 `json:"securityGroups,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=-1
	// +kubebuilder:validation:Maximum=2147483647
	SecurityGroupRules *int64 `json:"securityGroupRules,omitempty"`
}

// QuotaUsage is what a tenant's servers hold of the quotas that admission counts.
type QuotaUsage struct {
	// +optional
	Instances int64 `json:"instances"`
	// +optional
	Cores int64 `json:"cores"`
	// +optional
	RAM int64 `json:"ram"`
}

// QuotaReservation is usage admitted for a server that the last count has not seen yet:
// admission reserves it before the API server stores the server, and the controller drops
// it once a count from the API server sees the server with that flavor, or once it
// expires (the create or resize failed after admission).
type QuotaReservation struct {
	// UID is the server's.
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// FlavorRef is the flavor the server will have once stored.
	// +kubebuilder:validation:MaxLength=255
	FlavorRef string `json:"flavorRef"`
	// Usage is what the reservation adds (for a resize, the growth only).
	Usage QuotaUsage `json:"usage"`
	// Expires is when the reservation no longer counts.
	Expires metav1.Time `json:"expires"`
}

// ObjectReservation is a create (or an update that adds security-group rules) admitted
// for an object counted by a quota that is a count of objects (server groups, members of
// a server group, security groups and their rules, floating IPs), before the API server
// stores it. Admission counts it until the object is seen stored at that generation (the
// API server's list then counts it) or deleted, or until it expires (the write after
// admission failed).
type ObjectReservation struct {
	// UID is the object's.
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// Name is the object's metadata.name: of creates of one name one at most is stored.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// Generation is the object's generation the reservation is for (1 for a create).
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// Scope is the server group a server joins (server_group_members are per group).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Scope string `json:"scope,omitempty"`
	// Counts are how many of each quota, by Nova's or Neutron's key, the object adds.
	// +kubebuilder:validation:MaxProperties=8
	Counts map[string]int64 `json:"counts"`
	// Expires is when the reservation no longer counts.
	Expires metav1.Time `json:"expires"`
}

// QuotaStatus is the tenant's usage, as admission counts it.
type QuotaStatus struct {
	// Used is what the tenant's servers hold, reservations included.
	// +optional
	Used QuotaUsage `json:"used"`
	// Reservations are admitted creates and resizes not yet seen by a count.
	// +optional
	// +listType=map
	// +listMapKey=uid
	// +kubebuilder:validation:MaxItems=10000
	Reservations []QuotaReservation `json:"reservations,omitempty"`
	// ObjectReservations are admitted creates of counted objects not yet seen stored.
	// +optional
	// +listType=map
	// +listMapKey=uid
	// +kubebuilder:validation:MaxItems=10000
	ObjectReservations []ObjectReservation `json:"objectReservations,omitempty"`
	// ObservedTime is when the controller last counted the tenant's servers.
	// +optional
	ObservedTime *metav1.Time `json:"observedTime,omitempty"`
}

// Quota is a tenant's quotas (spec, written by the cloud operator) and its usage (status,
// written by Kova): the admission webhook refuses a server create or resize past them,
// reserving usage in status by an optimistic-concurrency update first, as Kubernetes'
// ResourceQuota admission does. A tenant has at most one, named "default"; without one it
// has the QuotaClass "default"'s limits.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'default'",message="a tenant's quota is named default"
// +kubebuilder:printcolumn:name="Instances",type=integer,JSONPath=`.status.used.instances`
// +kubebuilder:printcolumn:name="Cores",type=integer,JSONPath=`.status.used.cores`
// +kubebuilder:printcolumn:name="RAM",type=integer,JSONPath=`.status.used.ram`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Quota struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec QuotaLimits `json:"spec,omitempty"`
	// +optional
	Status QuotaStatus `json:"status,omitempty"`
}

// QuotaList is a list of quotas.
// +kubebuilder:object:root=true
type QuotaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Quota `json:"items"`
}

// QuotaClass "default" is the cloud operator's default quotas for every tenant (Nova's quota
// class "default"); a field left out is Nova's default.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=kova
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'default'",message="the one quota class is named default"
type QuotaClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec QuotaLimits `json:"spec,omitempty"`
}

// QuotaClassList is a list of quota classes.
// +kubebuilder:object:root=true
type QuotaClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []QuotaClass `json:"items"`
}

func init() { register(&Quota{}, &QuotaList{}, &QuotaClass{}, &QuotaClassList{}) }
