package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The identity service's own kinds (docs/identity.md). They live in one namespace,
// nova-api's --identity-namespace (kova-system), never in a tenant: a User names the
// Kubernetes identity its tokens act as, so whoever may write Users may act as anyone,
// which is the cluster administrator's right (the same as impersonation), not a tenant's.

// SecretKeyPasswordHash is the key, in a User's or an ApplicationCredential's Secret, of
// the bcrypt hash of the password or secret. Kova never stores the clear text.
const SecretKeyPasswordHash = "passwordHash"

// UserSpec is an identity-service user: who it is in Kubernetes and where its password is.
type UserSpec struct {
	// KubernetesUsername is the Kubernetes user its tokens act as: what RBAC and admission
	// see for every request made with them (impersonation). Defaults to "kova:" and the
	// object's name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	KubernetesUsername string `json:"kubernetesUsername,omitempty"`

	// Groups are the Kubernetes groups its tokens act as, besides system:authenticated.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	Groups []string `json:"groups,omitempty"`

	// PasswordSecretRef names a Secret in the same namespace whose key passwordHash holds
	// the bcrypt hash of the password. No Secret, no password login.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PasswordSecretRef string `json:"passwordSecretRef,omitempty"`

	// DefaultProject is the project (namespace) a login without a scope is scoped to, as
	// Keystone's default_project_id.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	DefaultProject string `json:"defaultProject,omitempty"`

	// Disabled refuses every login and every token of the user.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
}

// User is a user of Kova's identity service (Keystone v3): log in with its name and
// password, get a token that acts as spec.kubernetesUsername.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Kubernetes User",type=string,JSONPath=`.spec.kubernetesUsername`
// +kubebuilder:printcolumn:name="Default Project",type=string,JSONPath=`.spec.defaultProject`
// +kubebuilder:printcolumn:name="Disabled",type=boolean,JSONPath=`.spec.disabled`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type User struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec UserSpec `json:"spec"`
}

// UserList is a list of users.
// +kubebuilder:object:root=true
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}

// ApplicationCredentialSpec is a secret a program logs in with instead of its user's
// password, bound to one project.
// +kubebuilder:validation:XValidation:rule="self.user == oldSelf.user && self.project == oldSelf.project",message="spec.user and spec.project are immutable"
type ApplicationCredentialSpec struct {
	// User is the name of the User it logs in as.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	User string `json:"user"`

	// Project is the project (namespace) its tokens are scoped to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Project string `json:"project"`

	// SecretRef names a Secret in the same namespace whose key passwordHash holds the
	// bcrypt hash of the credential's secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretRef string `json:"secretRef"`

	// ExpiresAt, if set, is when it stops working.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// ApplicationCredential is a Keystone application credential: its id is the object's name.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.user`
// +kubebuilder:printcolumn:name="Project",type=string,JSONPath=`.spec.project`
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.spec.expiresAt`
type ApplicationCredential struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ApplicationCredentialSpec `json:"spec"`
}

// ApplicationCredentialList is a list of application credentials.
// +kubebuilder:object:root=true
type ApplicationCredentialList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApplicationCredential `json:"items"`
}

// TokenRevocationSpec says which token is revoked and until when that matters.
type TokenRevocationSpec struct {
	// AuditID is the revoked token's audit id (Keystone's audit_ids[0]).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	AuditID string `json:"auditID"`
	// ExpiresAt is when the revoked token expires: after it the record is no longer needed.
	// +required
	ExpiresAt metav1.Time `json:"expiresAt"`
}

// TokenRevocation records a revoked identity token (DELETE /v3/auth/tokens), so that every
// nova-api replica refuses it: the API server is the one place they all read.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kova
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.spec.expiresAt`
type TokenRevocation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec TokenRevocationSpec `json:"spec"`
}

// TokenRevocationList is a list of token revocations.
// +kubebuilder:object:root=true
type TokenRevocationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TokenRevocation `json:"items"`
}

func init() {
	register(&User{}, &UserList{}, &ApplicationCredential{}, &ApplicationCredentialList{},
		&TokenRevocation{}, &TokenRevocationList{})
}
