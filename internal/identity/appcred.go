package identity

import (
	"context"

	"k8s.io/apimachinery/pkg/util/validation"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// applicationCredential checks an application credential's secret; its token is scoped
// to the credential's project and acts as its User.
func (s *Service) applicationCredential(ctx context.Context, id, name, secret string, ref *userRef, addr string) (*Token, error) {
	if len(id) > maxIDLen || len(name) > maxNameLen || len(secret) > maxPasswordLen {
		return nil, badRequest("Invalid input for field 'identity/application_credential': a value is too long")
	}
	if id == "" && (ref == nil || (ref.ID == "" && (ref.Name == "" || !ref.Domain.isDefault()))) {
		return nil, badRequest("Invalid input for field 'identity/application_credential': a credential given by name needs its user")
	}
	key := "appcred:" + id + name
	if d := s.throttle.wait(key, addr); d > 0 {
		return nil, &loginError{code: 429, msg: tooManyFailures, retryAfter: d}
	}
	ac, u, hash := s.findApplicationCredential(ctx, id, name, ref)
	if !verify(hash, secret) || u == nil || u.Spec.Disabled ||
		(ac.Spec.ExpiresAt != nil && !s.cfg.Now().Before(ac.Spec.ExpiresAt.Time)) {
		s.throttle.failed(key, addr)
		return nil, unauthorized
	}
	t := s.userToken(u, "application_credential")
	t.AppCred, t.Project = ac.Name, ac.Spec.Project
	if ac.Spec.ExpiresAt != nil && ac.Spec.ExpiresAt.Time.Before(t.ExpiresAt) {
		t.ExpiresAt = ac.Spec.ExpiresAt.Time
	}
	return t, nil
}

func (s *Service) findApplicationCredential(ctx context.Context, id, name string, ref *userRef) (*computev1.ApplicationCredential, *computev1.User, []byte) {
	objName := id
	if objName == "" {
		objName = name
	}
	if len(validation.IsDNS1123Subdomain(objName)) > 0 {
		return nil, nil, nil
	}
	ac := &computev1.ApplicationCredential{}
	if err := s.get(ctx, objName, ac, nil); err != nil {
		return nil, nil, nil
	}
	u, err := s.user(ctx, ac.Spec.User)
	if err != nil {
		return nil, nil, nil
	}
	if id == "" && ((ref.ID != "" && ref.ID != userID(u)) || (ref.ID == "" && ref.Name != u.Name)) {
		return nil, nil, nil
	}
	return ac, u, s.secretHash(ctx, ac.Spec.SecretRef)
}
