package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// KeypairSpec is a public key. Leave PublicKey empty to have one generated: the private key
// is then handed back once, in a Secret named in status.privateKeySecret, and never in a
// custom resource.
// +kubebuilder:validation:XValidation:rule="self.type == oldSelf.type",message="spec.type is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.publicKey) || (has(self.publicKey) && self.publicKey == oldSelf.publicKey)",message="spec.publicKey is immutable"
type KeypairSpec struct {
	// PublicKey in OpenSSH authorized_keys form (ssh) or PEM (x509).
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	PublicKey string `json:"publicKey,omitempty"`

	// Type of the key: ssh or x509.
	// +kubebuilder:validation:Enum=ssh;x509
	// +kubebuilder:default=ssh
	Type string `json:"type"`

	// UserID is the Kubernetes user who owns the keypair (Nova keypairs are per user). The
	// admission webhook sets it to the creating user.
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
	// PrivateKeySecret names the Secret holding a generated private key. Read it once and
	// delete it; Kova keeps no other copy.
	// +optional
	PrivateKeySecret string `json:"privateKeySecret,omitempty"`
}

// Keypair is an SSH key injected into servers that name it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Fingerprint",type=string,JSONPath=`.status.fingerprint`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.userID`,priority=1
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

func init() { register(&Keypair{}, &KeypairList{}) }
