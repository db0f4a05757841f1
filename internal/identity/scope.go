package identity

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/util/validation"
)

// scope applies the request's scope to t: a project (by id, or by name in the default
// domain) where RBAC grants the identity a role, "unscoped", or, when none is asked for,
// the user's default project if it has a role there.
func (s *Service) scope(ctx context.Context, t *Token, raw json.RawMessage) error {
	var asked scopeRequest
	switch {
	case len(raw) == 0 || string(raw) == "null":
		if t.Project == "" && t.UserObject != "" {
			t.Project = s.defaultProject(ctx, t)
		}
		return nil
	case string(raw) == `"unscoped"`:
		if t.AppCred != "" {
			return unauthorized
		}
		t.Project = ""
		return nil
	}
	if err := json.Unmarshal(raw, &asked); err != nil {
		return badRequest("Invalid input for field 'auth/scope': %v", err)
	}
	if asked.Project == nil {
		// Domain, system and trust scopes: Kova has one domain and no system roles.
		return unauthorized
	}
	p := asked.Project
	project := p.ID
	if project == "" {
		if p.Name == "" {
			return badRequest("Invalid input for field 'scope/project': 'id' or 'name' is a required property")
		}
		if !p.Domain.isDefault() {
			if p.Domain == nil {
				return badRequest("Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
			}
			return unauthorized
		}
		project = p.Name
	}
	if len(project) > maxNameLen || len(validation.IsDNS1123Label(project)) > 0 {
		return unauthorized
	}
	if t.AppCred != "" && project != t.Project {
		return unauthorized
	}
	ok, err := s.mayScope(ctx, t, project)
	if err != nil {
		return err
	}
	if !ok {
		return unauthorized
	}
	t.Project = project
	return nil
}

// mayScope reports whether the project exists and RBAC grants t's identity a role in it.
func (s *Service) mayScope(ctx context.Context, t *Token, project string) (bool, error) {
	exists, err := s.projectExists(ctx, project)
	if err != nil || !exists {
		return false, err
	}
	roles, err := s.roles(ctx, t.User(), project)
	return len(roles) > 0, err
}

// defaultProject is the User's default project if the user has a role there, else "".
func (s *Service) defaultProject(ctx context.Context, t *Token) string {
	u, err := s.tokenUser(ctx, t)
	if err != nil || u.Spec.DefaultProject == "" {
		return ""
	}
	if ok, err := s.mayScope(ctx, t, u.Spec.DefaultProject); err != nil || !ok {
		return ""
	}
	return u.Spec.DefaultProject
}
