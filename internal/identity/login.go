package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
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
	keyName        = "name"
	keyLinks       = "links"
	keySelf        = "self"
	methodToken    = "token"
	methodPassword = "password"
	methodAppCred  = "application_credential"
)

// dummyHash is compared against when there is no hash to check (unknown user, no Secret),
// so that a login takes as long whether or not the user exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("kova: no such user"), bcrypt.DefaultCost)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth *struct {
		Identity *identityRequest `json:"identity"`
		Scope    json.RawMessage  `json:"scope"`
	} `json:"auth"`
}

// identityRequest is the body's identity: its methods and a block for each.
type identityRequest struct {
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
	// blocks are the blocks the body has, by name, for any method (Keystone tells a method
	// named without its block, 400, from one it does not support, 401).
	blocks map[string]json.RawMessage
}

func (i *identityRequest) UnmarshalJSON(b []byte) error {
	type fields identityRequest // without this method
	if err := json.Unmarshal(b, (*fields)(i)); err != nil {
		return err
	}
	return json.Unmarshal(b, &i.blocks)
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
	methods    []string // the methods Kova serves, for an unsupported one
}

func (e *loginError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &loginError{code: 400, msg: fmt.Sprintf(format, args...)}
}

// unauthorized is every failed authentication: the same words whatever failed.
var unauthorized = &loginError{code: 401, msg: msgUnauthorized}

// unsupportedMethod is Keystone's 401 for a method it does not serve, which names those
// it does.
var unsupportedMethod = &loginError{code: 401, msg: "Attempted to authenticate with an unsupported method.",
	methods: []string{methodPassword, methodToken, methodAppCred}}

// login authenticates a POST /v3/auth/tokens body and returns the new token, not yet signed.
func (s *Service) login(ctx context.Context, body *authRequest, addr string) (*Token, error) {
	if body.Auth == nil {
		return nil, badRequest("Invalid input for field 'auth': 'auth' is a required property")
	}
	id := body.Auth.Identity
	if id == nil {
		return nil, badRequest("Invalid input for field 'auth': 'identity' is a required property")
	}
	if len(id.Methods) == 0 {
		return nil, unauthorized // Keystone: no method authenticates no one
	}
	if len(id.Methods) != 1 {
		return nil, badRequest("Invalid input for field 'identity/methods': exactly one of password, token, application_credential is supported")
	}
	if _, ok := id.blocks[id.Methods[0]]; !ok {
		return nil, badRequest("Expecting to find %s in identity. %s", id.Methods[0], msgClientError)
	}
	var (
		t   *Token
		err error
	)
	switch id.Methods[0] {
	case methodPassword:
		if id.Password == nil || id.Password.User == nil {
			return nil, badRequest("Invalid input for field 'identity/password': 'user' is a required property")
		}
		t, err = s.password(ctx, id.Password.User, addr)
	case methodToken:
		if id.Token == nil || id.Token.ID == "" {
			return nil, badRequest("Invalid input for field 'identity/token': 'id' is a required property")
		}
		t, err = s.fromToken(ctx, id.Token.ID)
	case methodAppCred:
		ac := id.ApplicationCredential
		if ac == nil || ac.Secret == nil || (ac.ID == "" && ac.Name == "") {
			return nil, badRequest("Invalid input for field 'identity/application_credential': 'secret' and 'id' or 'name' are required properties")
		}
		t, err = s.applicationCredential(ctx, ac.ID, ac.Name, *ac.Secret, ac.User, addr)
	default:
		return nil, unsupportedMethod
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
