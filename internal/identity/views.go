package identity

import (
	"context"
	"net/http"
)

// tokenView is a token as Keystone shows it (POST and GET /v3/auth/tokens). A scoped
// token's roles are read from RBAC now, and a scoped token whose identity has no role left
// in its project is no longer valid (Keystone revokes a token when its role assignment
// goes); false then.
func (s *Service) tokenView(ctx context.Context, t *Token, withCatalog bool) (map[string]any, bool, error) {
	body := map[string]any{
		"methods":    t.Methods,
		"user":       map[string]any{"domain": defaultDomain, "id": t.UserID, keyName: t.UserName, "password_expires_at": nil},
		"audit_ids":  t.AuditIDs(),
		"expires_at": keystoneTime(t.ExpiresAt),
		"issued_at":  keystoneTime(t.IssuedAt),
	}
	if t.Project != "" {
		names, err := s.roles(ctx, t.User(), t.Project)
		if err != nil {
			return nil, false, err
		}
		if len(names) == 0 {
			return nil, false, nil
		}
		roles := make([]map[string]string, 0, len(names))
		for _, n := range names {
			roles = append(roles, map[string]string{"id": roleID(n), keyName: n})
		}
		body["project"] = map[string]any{"domain": defaultDomain, "id": t.Project, keyName: t.Project}
		body["is_domain"] = false
		body["roles"] = roles
		if withCatalog {
			body["catalog"] = s.catalog(t.Project)
		}
	}
	if t.AppCred != "" {
		body["application_credential"] = map[string]any{"id": t.AppCred, keyName: t.AppCred, "restricted": true}
	}
	return map[string]any{methodToken: body}, true, nil
}

// projectView is a project (a namespace) as Keystone lists it.
func (s *Service) projectView(name string) map[string]any {
	return map[string]any{
		"id": name, keyName: name, "description": "", "domain_id": defaultDomainID, "enabled": true,
		"is_domain": false, "parent_id": "default", "tags": []string{}, "options": map[string]any{},
		keyLinks: map[string]string{keySelf: s.cfg.Endpoint + "/identity/v3/projects/" + name},
	}
}

// collectionLinks are the links of an unpaged collection at path.
func (s *Service) collectionLinks(r *http.Request) map[string]any {
	return map[string]any{keySelf: s.cfg.Endpoint + r.URL.Path, "previous": nil, "next": nil}
}
