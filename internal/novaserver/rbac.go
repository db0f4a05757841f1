package novaserver

// The ClusterRole kova-nova-api (config/rbac/nova_api_role.yaml, written by `make manifests`
// from the markers below) is what the shim does with its own identity, the ServiceAccount
// kova-system/kova-nova-api. Writes made for a caller go out as that caller (impersonation),
// so RBAC and the admission webhooks judge the real requester; the shim itself writes only
// its own records. What it needs:
//
//   - read every compute.kova.dev kind, through its informer cache and live reads;
//   - patch servers: its own record of the action it is about to make for a caller (an
//     annotation naming the ServerAction, so every replica reads it with the server), which
//     the caller, who may act on a server without editing it, could not write;
//   - impersonate users, groups, service accounts, UIDs and user extras: the identity
//     kube-apiserver authenticated (or TokenReview returned) is passed on whole, extras
//     included. RBAC cannot narrow impersonation to "whoever is calling", so this is the
//     widest right the shim holds, inherent to acting for callers. RBAC has no wildcard for
//     extra keys either (userextras/* matches nothing), so the keys are named: those
//     kube-apiserver puts on service-account tokens. A cluster whose authenticator adds
//     others (an OIDC claim mapped to an extra) adds them to the role, or its users' writes
//     through the shim are refused;
//   - create, get and delete Secrets: a changePassword action's password goes into a
//     Secret owned by its ServerAction, never into the action itself;
//   - create servers/rax-si-image-schedule on its own API: the matrix lets a creator enable
//     scheduled images, a Server spec field a creator may not write, so the shim writes it
//     as itself once RBAC allowed the caller the call, and the Server webhook asks RBAC
//     whether the writer may make that call;
//   - get namespaces: a FlexCloud create of an account that does not exist is 404, and a
//     login scoped to a project that does not exist is refused;
//   - the identity service (internal/identity): read Users and ApplicationCredentials (its
//     cache), their Secrets (get, above) and the token signing key's Secret (create, above,
//     by the first replica); create, read and delete TokenRevocations (a revoked token,
//     read by every replica on every use; deleted once expired); list RoleBindings, to find
//     the projects a user has a role in (GET /v3/auth/projects), each then checked with a
//     SubjectAccessReview;
//   - patch images/status: the image API is the status writer of the images uploaded
//     through it (queued, saving, active with the data's size and hashes).
//
//   - create securitygroups: a tenant's default group, made on its first security-group call
//     whoever makes it (Neutron makes it for any role);
//   - delete floatingips: a floating IP the pool could not give an address is deleted again
//     before the answer, whoever asked (a creator may allocate but not delete).
//
// TokenReviews and SubjectAccessReviews (system:auth-delegator) and the front-proxy CA in
// kube-system (extension-apiserver-authentication-reader) are bound in
// config/rbac/role_binding.yaml: markers cannot bind existing roles.

// +kubebuilder:rbac:groups=compute.kova.dev,resources=servers;serveractions;flavors;images;imagemembers;keypairs;networks;quotas;quotaclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=servers,verbs=patch
// +kubebuilder:rbac:groups="",resources=users;groups;serviceaccounts,verbs=impersonate
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=uids;userextras/authentication.kubernetes.io/credential-id;userextras/authentication.kubernetes.io/pod-name;userextras/authentication.kubernetes.io/pod-uid;userextras/authentication.kubernetes.io/node-name;userextras/authentication.kubernetes.io/node-uid,verbs=impersonate
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;get;delete
// +kubebuilder:rbac:groups="",namespace=kova-system,resources=secrets,resourceNames=kova-identity-token-key,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list
// +kubebuilder:rbac:groups=nova.kova.dev,resources=servers/rax-si-image-schedule,verbs=create
// +kubebuilder:rbac:groups=compute.kova.dev,resources=users;applicationcredentials,verbs=get;list;watch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=tokenrevocations,verbs=create;get;list;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=list
// +kubebuilder:rbac:groups=compute.kova.dev,resources=images/status,verbs=patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=securitygroups,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=compute.kova.dev,resources=floatingips,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=compute.kova.dev,resources=servergroups,verbs=get;list;watch
