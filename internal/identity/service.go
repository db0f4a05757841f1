// Package identity is Kova's identity service: the part of Keystone v3 that OpenStack
// clients use to log in (tokens, their projects and the service catalog), backed by
// Kubernetes. A project is a namespace, a user is a Kubernetes identity (a User object of
// the identity namespace, or whoever a Kubernetes bearer token is), a token's roles are what
// RBAC grants that identity in the project, and every request made with a Kova token acts as
// that identity (nova-api impersonates it), so RBAC and admission judge it as ever.
// docs/identity.md is the whole mapping.
package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// DefaultTokenTTL is how long a token lives: Keystone's default ([token] expiration).
const DefaultTokenTTL = time.Hour

// Config is what the identity service works with.
type Config struct {
	// Namespace holds the Users, ApplicationCredentials, their Secrets, the token
	// revocations and the signing key.
	Namespace string
	// Client is nova-api's own identity: it reads Secrets, records revocations.
	Client client.Client
	// Cache reads Users and ApplicationCredentials; Live reads past it.
	Cache, Live client.Reader
	// Authorizer answers what RBAC grants (SubjectAccessReview, cached).
	Authorizer authorizer.Authorizer
	// KubeTokens authenticates a Kubernetes bearer token (TokenReview), for the token method
	// and for callers of the identity API that bring one.
	KubeTokens authenticator.Token
	// Endpoint is the direct endpoint's base URL as clients know it (--public-endpoint).
	Endpoint string
	TokenTTL time.Duration
	// KeyRotation is how often a new token signing key is made; 0 never, negative
	// DefaultKeyRotation.
	KeyRotation time.Duration
	Now         func() time.Time
}

// Service is the identity service: its HTTP API (Handler) and the check of a Kova token on
// every request (AuthenticateToken).
type Service struct {
	cfg      Config
	keys     *keys
	throttle *throttle
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeyRotation < 0 {
		cfg.KeyRotation = DefaultKeyRotation
	}
	k := &keys{client: cfg.Client, namespace: cfg.Namespace, rotation: cfg.KeyRotation,
		retain: cfg.TokenTTL + allowExpiredWindow, now: cfg.Now}
	return &Service{cfg: cfg, keys: k, throttle: newThrottle(cfg.Now)}
}

// AuthenticateToken accepts a Kova token that is signed, unexpired, unrevoked and whose
// User still exists, is the same object and is enabled, as the Kubernetes identity it acts
// as. It says false for a token that is not Kova's (see IsKovaToken) and for every refusal.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	t, err := s.check(ctx, token, false)
	if err != nil {
		return nil, false, nil
	}
	return &authenticator.Response{User: t.User()}, true, nil
}

// Scope is the project of a Kova token whose signature and expiry hold ("" for an
// unscoped one); false if token is not a valid Kova token. Whether it was revoked is the
// handler chain's to find out (AuthenticateToken).
func (s *Service) Scope(ctx context.Context, token string) (string, bool) {
	t, err := s.parse(ctx, token)
	if err != nil {
		return "", false
	}
	return t.Project, true
}

// parse verifies token with the key it names.
func (s *Service) parse(ctx context.Context, token string) (*Token, error) {
	return parse(token, func(id string) ([]byte, error) { return s.keys.verifying(ctx, id) }, s.cfg.Now())
}

// errRefused is any reason a token is not accepted; callers answer 401 (or 404 for the
// subject of a validation) without saying which.
var errRefused = errors.New("token refused")

// check verifies a Kova token: its signature and expiry (unless allowExpired), that it was
// not revoked, and that its User still stands behind it.
func (s *Service) check(ctx context.Context, token string, allowExpired bool) (*Token, error) {
	t, err := s.parse(ctx, token)
	if err != nil && !errors.Is(err, errBadToken) && !errors.Is(err, errExpired) {
		return nil, err // the keys could not be read
	}
	if err != nil && (!allowExpired || !errors.Is(err, errExpired)) {
		return nil, errRefused
	}
	if revoked, err := s.revoked(ctx, t.AuditIDs()); err != nil || revoked {
		return nil, errRefused
	}
	if t.UserObject != "" {
		u, err := s.tokenUser(ctx, t)
		if err != nil || string(u.UID) != t.UserUID || u.Spec.Disabled {
			return nil, errRefused
		}
	}
	return t, nil
}

// caller authenticates the caller of an identity API request by its X-Auth-Token: a Kova
// token, or a Kubernetes bearer token. It returns the caller's token when it is Kova's.
func (s *Service) caller(r *http.Request) (user.Info, *Token, bool) {
	token := r.Header.Get("X-Auth-Token")
	if token == "" || len(token) > maxTokenBytes {
		return nil, nil, false
	}
	if IsKovaToken(token) {
		t, err := s.check(r.Context(), token, false)
		if err != nil {
			return nil, nil, false
		}
		return t.User(), t, true
	}
	resp, ok, err := s.cfg.KubeTokens.AuthenticateToken(r.Context(), token)
	if err != nil || !ok || resp.User.GetName() == user.Anonymous {
		return nil, nil, false
	}
	return resp.User, nil, true
}

// kubeUserID is the identity-service id of a Kubernetes identity without a User object:
// 32 hex digits, as Keystone's ids, the same on every replica.
func kubeUserID(name string) string {
	return stableID("kubernetes-user", name)
}

// userID is a User object's id: its UID's 32 hex digits.
func userID(u *computev1.User) string {
	id := make([]byte, 0, 32)
	for _, c := range []byte(u.UID) {
		if c != '-' {
			id = append(id, c)
		}
	}
	return string(id)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
