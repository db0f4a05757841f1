package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Bounds on what a login may send (Keystone's own: names of 255 characters, ids of 64,
// passwords of 4096). bcrypt reads 72 bytes of a password: a longer one could never have
// been hashed, so it fails like a wrong one.
const (
	maxNameLen     = 255
	maxIDLen       = 64
	maxPasswordLen = 4096
	maxBcryptLen   = 72
)

// allowExpiredWindow is how long after its expiry a token may still be validated with
// ?allow_expired=1 (Keystone's [token] allow_expired_window).
const allowExpiredWindow = 48 * time.Hour

// The one domain: every user and project is in it.
const (
	defaultDomainID   = "default"
	defaultDomainName = "Default"
)

var defaultDomain = map[string]string{"id": defaultDomainID, keyName: defaultDomainName}

// Names the identity API uses more than once.
const (
	keyName     = "name"
	keyLinks    = "links"
	keySelf     = "self"
	methodToken = "token"
)

// dummyHash is compared against when there is no hash to check (unknown user, no Secret),
// so that a login takes as long whether or not the user exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("kova: no such user"), bcrypt.DefaultCost)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *userRef `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			ApplicationCredential *struct {
				ID     string   `json:"id"`
				Name   string   `json:"name"`
				Secret *string  `json:"secret"`
				User   *userRef `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type userRef struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Password *string    `json:"password"`
	Domain   *domainRef `json:"domain"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// isDefault reports whether d names the default domain (Keystone accepts its id or name).
func (d *domainRef) isDefault() bool {
	return d != nil && ((d.ID != "" && d.ID == defaultDomainID) || (d.ID == "" && d.Name == defaultDomainName))
}

type scopeRequest struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
	Domain *json.RawMessage `json:"domain"`
	System *json.RawMessage `json:"system"`
	Trust  *json.RawMessage `json:"OS-TRUST:trust"`
}

// loginError is a refused login: its HTTP status and Keystone's message.
type loginError struct {
	code       int
	msg        string
	retryAfter time.Duration
}

func (e *loginError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &loginError{code: 400, msg: fmt.Sprintf(format, args...)}
}

// unauthorized is every failed authentication: the same words whatever failed.
var unauthorized = &loginError{code: 401, msg: msgUnauthorized}

// login authenticates a POST /v3/auth/tokens body and returns the new token, not yet signed.
func (s *Service) login(ctx context.Context, body *authRequest, addr string) (*Token, error) {
	if body.Auth == nil {
		return nil, badRequest("Invalid input for field 'auth': 'auth' is a required property")
	}
	id := body.Auth.Identity
	if id == nil {
		return nil, badRequest("Invalid input for field 'auth': 'identity' is a required property")
	}
	if len(id.Methods) != 1 {
		return nil, badRequest("Invalid input for field 'identity/methods': exactly one of password, token, application_credential is supported")
	}
	var (
		t   *Token
		err error
	)
	switch id.Methods[0] {
	case "password":
		if id.Password == nil || id.Password.User == nil {
			return nil, badRequest("Invalid input for field 'identity/password': 'user' is a required property")
		}
		t, err = s.password(ctx, id.Password.User, addr)
	case methodToken:
		if id.Token == nil || id.Token.ID == "" {
			return nil, badRequest("Invalid input for field 'identity/token': 'id' is a required property")
		}
		t, err = s.fromToken(ctx, id.Token.ID)
	case "application_credential":
		ac := id.ApplicationCredential
		if ac == nil || ac.Secret == nil || (ac.ID == "" && ac.Name == "") {
			return nil, badRequest("Invalid input for field 'identity/application_credential': 'secret' and 'id' or 'name' are required properties")
		}
		t, err = s.applicationCredential(ctx, ac.ID, ac.Name, *ac.Secret, ac.User, addr)
	default:
		return nil, unauthorized // Keystone: an auth method it does not know is a 401
	}
	if err != nil {
		return nil, err
	}
	if err := s.scope(ctx, t, body.Auth.Scope); err != nil {
		return nil, err
	}
	// The token keeps whole seconds (JWT times), so its body reads the same when validated;
	// Keystone's fernet tokens show .000000 too.
	t.IssuedAt, t.ExpiresAt = t.IssuedAt.Truncate(time.Second), t.ExpiresAt.Truncate(time.Second)
	return t, nil
}

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
	return s.userToken(u, "password"), nil
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

// fromToken is the token method: a Kova token (rescoped, it keeps its expiry, and revoking
// it revokes the new one), or a Kubernetes bearer token (TokenReview), whose identity the
// new token acts as, for no longer than the Kubernetes token lives.
func (s *Service) fromToken(ctx context.Context, token string) (*Token, error) {
	if len(token) > maxTokenBytes {
		return nil, unauthorized
	}
	now := s.cfg.Now()
	if IsKovaToken(token) {
		old, err := s.check(ctx, token, false)
		if err != nil {
			return nil, unauthorized
		}
		t := *old
		t.AuditID, t.IssuedAt, t.AppCred = newAuditID(), now, ""
		if t.Parent == "" {
			t.Parent = old.AuditID
		}
		t.Methods = []string{methodToken}
		for _, m := range old.Methods {
			if m != methodToken {
				t.Methods = append(t.Methods, m)
			}
		}
		return &t, nil
	}
	resp, ok, err := s.cfg.KubeTokens.AuthenticateToken(ctx, token)
	if err != nil || !ok || resp.User.GetName() == "" || resp.User.GetName() == user.Anonymous {
		return nil, unauthorized
	}
	u := resp.User
	expires := now.Add(s.cfg.TokenTTL)
	if exp, ok := jwtExpiry(token); ok && exp.Before(expires) {
		expires = exp
	}
	return &Token{
		AuditID: newAuditID(), IssuedAt: now, ExpiresAt: expires,
		UserID: kubeUserID(u.GetName()), UserName: u.GetName(),
		KubeName: u.GetName(), KubeUID: u.GetUID(), KubeGroups: u.GetGroups(), KubeExtra: u.GetExtra(),
		Methods: []string{methodToken},
	}, nil
}

// kubeTokenView is what GET /v3/auth/tokens shows of a Kubernetes bearer token
// (gophercloud validates a token it is given rather than exchanging it): its identity,
// scoped to its service account's namespace, as the compute paths without a tenant are.
// nil if TokenReview refuses it.
func (s *Service) kubeTokenView(ctx context.Context, token string) *Token {
	resp, ok, err := s.cfg.KubeTokens.AuthenticateToken(ctx, token)
	if err != nil || !ok || resp.User.GetName() == user.Anonymous {
		return nil
	}
	u := resp.User
	now := s.cfg.Now().Truncate(time.Second)
	expires := now.Add(s.cfg.TokenTTL)
	if exp, ok := jwtExpiry(token); ok {
		expires = exp
	}
	sum := sha256.Sum256([]byte(token))
	t := &Token{
		AuditID: base64.RawURLEncoding.EncodeToString(sum[:16]), IssuedAt: now, ExpiresAt: expires,
		UserID: kubeUserID(u.GetName()), UserName: u.GetName(),
		KubeName: u.GetName(), KubeUID: u.GetUID(), KubeGroups: u.GetGroups(), KubeExtra: u.GetExtra(),
		Methods: []string{methodToken}, kubernetes: true,
	}
	if ns, _, err := serviceaccount.SplitUsername(u.GetName()); err == nil {
		t.Project = ns
	}
	return t
}

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
		return badRequest("Invalid input for field 'auth/scope': %s", describe(err))
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
