package identity

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A token's roles are not stored anywhere: they are what RBAC grants its Kubernetes
// identity, asked (SubjectAccessReview, through the server's cached authorizer) each time a
// token is issued or validated, so a token never shows more than RBAC allows, and RBAC still
// decides every request made with it. The question for each role is the one call of the
// permission matrix that tells it from the role below it, on the REST shim's resources:
//
//	kova-observer  get servers     -> reader, compute:observer
//	kova-creator   create servers  -> member, compute:creator
//	kova-admin     delete servers  -> compute:admin (Rackspace's account administrator)
//	cloud operator override-lock on servers cluster-wide -> admin (Nova's admin)
//
// Keystone's "admin" is the cloud's administrator to every OpenStack client (Tempest,
// Horizon, the CLI's policy hints), so only the cloud operator gets it; a tenant's
// kova-admin is Nova's project member with Rackspace's compute:admin.

// Role names, as the token shows them.
const (
	roleReader   = "reader"
	roleMember   = "member"
	roleAdmin    = "admin"
	roleObserver = "compute:observer"
	roleCreator  = "compute:creator"
	roleAccount  = "compute:admin"
)

// tenantRoleClusterRoles are the ClusterRoles a tenant grants with RoleBindings.
var tenantRoleClusterRoles = map[string]bool{"kova-observer": true, "kova-creator": true, "kova-admin": true}

// maxProjects bounds the projects one answer lists.
const maxProjects = 1000

// roles are the role names RBAC grants u in project, in Keystone's order (by name).
func (s *Service) roles(ctx context.Context, u user.Info, project string) ([]string, error) {
	var out []string
	allowed := func(verb string) (bool, error) {
		d, _, err := s.cfg.Authorizer.Authorize(ctx, authorizer.AttributesRecord{
			User: u, Verb: verb, Namespace: project, APIGroup: computev1.NovaAPIGroup, APIVersion: "v1",
			Resource: "servers", ResourceRequest: true,
		})
		if d == authorizer.DecisionAllow {
			return true, nil
		}
		return false, err
	}
	for _, step := range []struct {
		verb  string
		names []string
	}{
		{"get", []string{roleReader, roleObserver}},
		{"create", []string{roleMember, roleCreator}},
		{"delete", []string{roleAccount}},
	} {
		ok, err := allowed(step.verb)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		out = append(out, step.names...)
	}
	if len(out) > 0 {
		admin, err := s.isCloudAdmin(ctx, u)
		if err != nil {
			return nil, err
		}
		if admin {
			out = append(out, roleAdmin)
		}
	}
	// Each role shows the ones below it too, as Keystone's implied roles do.
	sort.Strings(out)
	return out, nil
}

// isCloudAdmin asks what novaserver's Admins asks: override-lock on servers with no
// namespace, which only a cluster-wide grant allows.
func (s *Service) isCloudAdmin(ctx context.Context, u user.Info) (bool, error) {
	d, _, err := s.cfg.Authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: computev1.VerbOverrideLock, APIGroup: computev1.GroupVersion.Group,
		APIVersion: computev1.GroupVersion.Version, Resource: "servers", ResourceRequest: true,
	})
	if d == authorizer.DecisionAllow {
		return true, nil
	}
	return false, err
}

// projects are the projects u has a role in: the namespaces where a RoleBinding grants one
// of the tenant ClusterRoles to u (by name, group or service account), and for the cloud
// operator every namespace with such a RoleBinding; each is then checked with RBAC itself.
func (s *Service) projects(ctx context.Context, u user.Info) ([]string, error) {
	admin, err := s.isCloudAdmin(ctx, u)
	if err != nil {
		return nil, err
	}
	var bindings rbacv1.RoleBindingList
	candidates := map[string]bool{}
	for {
		if err := s.cfg.Live.List(ctx, &bindings, client.Limit(500), client.Continue(bindings.Continue)); err != nil {
			return nil, err
		}
		for _, b := range bindings.Items {
			if b.RoleRef.Kind == "ClusterRole" && tenantRoleClusterRoles[b.RoleRef.Name] && (admin || namesUser(b.Subjects, b.Namespace, u)) {
				candidates[b.Namespace] = true
			}
		}
		if bindings.Continue == "" || len(candidates) > maxProjects {
			break
		}
	}
	var out []string
	for ns := range candidates {
		roles, err := s.roles(ctx, u, ns)
		if err != nil {
			return nil, err
		}
		if len(roles) > 0 {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	if len(out) > maxProjects {
		out = out[:maxProjects]
	}
	return out, nil
}

// namesUser reports whether a RoleBinding's subjects include u.
func namesUser(subjects []rbacv1.Subject, bindingNamespace string, u user.Info) bool {
	for _, sub := range subjects {
		switch sub.Kind {
		case rbacv1.UserKind:
			if sub.Name == u.GetName() {
				return true
			}
		case rbacv1.GroupKind:
			if contains(u.GetGroups(), sub.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			ns := sub.Namespace
			if ns == "" {
				ns = bindingNamespace
			}
			if serviceaccount.MakeUsername(ns, sub.Name) == u.GetName() {
				return true
			}
		}
	}
	return false
}

// projectExists reads the namespace past the cache.
func (s *Service) projectExists(ctx context.Context, name string) (bool, error) {
	err := s.cfg.Live.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
	if err == nil {
		return true, nil
	}
	return false, ignoreNotFound(err)
}

// roleID is a role's id: 32 hex digits, the same everywhere.
func roleID(name string) string { return stableID("role", name) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
