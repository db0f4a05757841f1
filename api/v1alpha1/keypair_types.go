package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// KeypairSpec is a public key. Leave PublicKey empty to have one generated: the private key
// is then handed back once, in a Secret named in status.privateKeySecret, and never in a
// custom resource.
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="spec.type is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.publicKey) || (has(self.publicKey) && self.publicKey == oldSelf.publicKey)",message="spec.publicKey is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.name) || (has(self.name) && self.name == oldSelf.name)",message="spec.name is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.userID) || (has(self.userID) && self.userID == oldSelf.userID)",message="spec.userID is immutable"
type KeypairSpec struct {
	// Name is the keypair's Nova name, the key_name a server boots with; defaults to
	// metadata.name. Nova keypair names are per user: two users of one tenant may each have
	// a keypair "prod" (as two objects with different metadata.names), but one user may not
	// have two.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Name string `json:"name,omitempty"`

	// PublicKey in OpenSSH authorized_keys form (ssh) or PEM (x509).
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	PublicKey string `json:"publicKey,omitempty"`

	// Type of the key: ssh or x509.
	// +kubebuilder:validation:Enum=ssh;x509
	// +kubebuilder:default=ssh
	// +optional
	Type string `json:"type"`

	// UserID is the Kubernetes user who owns the keypair (Nova keypairs are per user). The
	// admission webhook sets it to the creating user, and refuses another user's name unless
	// the creator may act for other users (Nova's admin); it never changes.
	// +optional
	UserID string `json:"userID,omitempty"`
}

// KeypairStatus is the key as Nova shows it.
type KeypairStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Fingerprint is the MD5 fingerprint of the public key, colon separated, as Nova shows it.
	// +optional
	Fingerprint string `json:"fingerprint,omitempty"`
	// PublicKey is the key in use (the generated one when spec.publicKey was empty).
	// +optional
	PublicKey string `json:"publicKey,omitempty"`
	// PrivateKeySecret names the Secret holding a generated private key. Only the keypair's
	// user may read it (through a Role and RoleBinding of the same name that Kova makes with
	// it); read it once and delete it; Kova keeps no other copy.
	// +optional
	PrivateKeySecret string `json:"privateKeySecret,omitempty"`
}

// Keypair is an SSH key injected into servers that name it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Key Name",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.userID`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Fingerprint",type=string,JSONPath=`.status.fingerprint`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Keypair struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec KeypairSpec `json:"spec"`
	// +optional
	Status KeypairStatus `json:"status,omitempty"`
}

// KeypairList is a list of keypairs.
// +kubebuilder:object:root=true
type KeypairList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Keypair `json:"items"`
}

// NovaName is the name Nova clients know the keypair by: spec.name, else (for a keypair
// made before spec.name existed) the name annotation, else metadata.name.
func (kp *Keypair) NovaName() string {
	if kp.Spec.Name != "" {
		return kp.Spec.Name
	}
	if n, ok := kp.Annotations[AnnotationKeypairName]; ok {
		return n
	}
	return kp.Name
}

func init() { register(&Keypair{}, &KeypairList{}) }
