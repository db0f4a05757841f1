package identity

import (
	"context"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// password checks a user's password against the bcrypt hash in its Secret. Every way it
// can fail costs one bcrypt comparison, so the time taken does not tell them apart.
func (s *Service) password(ctx context.Context, ref *userRef, addr string) (*Token, error) {
	if ref.Password == nil {
		return nil, badRequest("Invalid input for field 'identity/password/user': 'password' is a required property")
	}
	if err := checkUserRef(ref); err != nil {
		return nil, err
	}
	key := ref.ID
	if key == "" {
		key = "name:" + ref.Name
	}
	if d := s.throttle.wait(key, addr); d > 0 {
		return nil, &loginError{code: 429, msg: tooManyFailures, retryAfter: d}
	}
	u, hash := s.findUser(ctx, ref)
	if !verify(hash, *ref.Password) || u == nil || u.Spec.Disabled {
		s.throttle.failed(key, addr)
		return nil, unauthorized
	}
	return s.userToken(u, methodPassword), nil
}

// checkUserRef validates a user reference: an id, or a name in the default domain.
func checkUserRef(ref *userRef) error {
	switch {
	case ref.ID == "" && ref.Name == "":
		return badRequest("Invalid input for field 'identity/password/user': 'id' or 'name' is a required property")
	case len(ref.ID) > maxIDLen:
		return badRequest("Invalid input for field 'identity/password/user/id': %q is too long (at most %d characters)", ref.ID[:16]+"...", maxIDLen)
	case len(ref.Name) > maxNameLen:
		return badRequest("Invalid input for field 'identity/password/user/name': the name is too long (at most %d characters)", maxNameLen)
	case ref.Password != nil && len(*ref.Password) > maxPasswordLen:
		return badRequest("Invalid input for field 'identity/password/user/password': the password is too long (at most %d characters)", maxPasswordLen)
	case ref.ID == "" && ref.Domain == nil:
		return badRequest("Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	return nil
}

// findUser looks the user up (by name in the default domain, or by id) and reads its
// password hash; nil and nil when there is none.
func (s *Service) findUser(ctx context.Context, ref *userRef) (*computev1.User, []byte) {
	var u *computev1.User
	if ref.ID != "" {
		u = s.userByID(ctx, ref.ID)
	} else if ref.Domain.isDefault() && len(validation.IsDNS1123Subdomain(ref.Name)) == 0 {
		if found, err := s.user(ctx, ref.Name); err == nil {
			u = found
		}
	}
	if u == nil || u.Spec.PasswordSecretRef == "" {
		return nil, nil
	}
	return u, s.secretHash(ctx, u.Spec.PasswordSecretRef)
}

// secretHash reads the bcrypt hash of a Secret in the identity namespace, past the cache
// (nova-api keeps no Secrets in memory); nil if there is none.
func (s *Service) secretHash(ctx context.Context, name string) []byte {
	secret := &corev1.Secret{}
	if err := s.cfg.Live.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: name}, secret); err != nil {
		return nil
	}
	return secret.Data[computev1.SecretKeyPasswordHash]
}

// verify compares password with hash, or with dummyHash when hash is nil, and is false then.
func verify(hash []byte, password string) bool {
	if len(password) > maxBcryptLen {
		password = ""
		hash = nil
	}
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// userToken is an unscoped token of a User, acting as its Kubernetes identity.
func (s *Service) userToken(u *computev1.User, method string) *Token {
	now := s.cfg.Now()
	groups := append([]string{}, u.Spec.Groups...)
	if !contains(groups, user.AllAuthenticated) {
		groups = append(groups, user.AllAuthenticated)
	}
	return &Token{
		AuditID: newAuditID(), IssuedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL),
		UserID: userID(u), UserName: u.Name, UserObject: u.Name, UserUID: string(u.UID),
		KubeName: KubernetesUsername(u), KubeGroups: groups, Methods: []string{method},
	}
}

// KubernetesUsername is who a User's tokens act as.
func KubernetesUsername(u *computev1.User) string {
	if u.Spec.KubernetesUsername != "" {
		return u.Spec.KubernetesUsername
	}
	return "kova:" + u.Name
}
