// Package rules is the one home of what a Server wants and what it is: the desired state
// its spec asks for and the next Nova action toward it, the action a REST call or a
// ServerAction means, the lifecycle state a Server's status records (and the one Nova would
// show while an action waits to be taken up), the pending actions, the Image a snapshot
// makes, and what a tenant may see (images, networks, keypairs, the public namespace).
//
// The controller, the admission webhook and the REST shim all ask it, so they cannot drift
// apart. It is pure: API types, apimachinery and the lifecycle package, no Kubernetes
// client, so every rule is tested table by table without a cluster.
package rules
