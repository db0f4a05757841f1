package identity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	"k8s.io/apiserver/pkg/authentication/user"
)

// issuer marks Kova's identity tokens: a token whose unverified issuer is this is judged by
// Kova alone (and refused if its signature fails), never sent on to TokenReview.
const issuer = "kova-identity"

// maxTokenBytes bounds a token Kova parses (its own are well under 2 KiB).
const maxTokenBytes = 8 << 10

// Token is what a Kova token says: who (the Kubernetes identity every request made with
// it acts as, and the identity-service user), where (the project), how and until when.
// It is signed (HS256, keys in a Secret shared by every replica), so it is trusted as it
// stands; whether it was revoked, or its User disabled or deleted, is read on each use.
type Token struct {
	AuditID   string
	Parent    string // the audit id of the token this one was made from (token method)
	IssuedAt  time.Time
	ExpiresAt time.Time

	UserID   string
	UserName string
	// UserObject and UserUID name the User object behind the token; both empty for a
	// Kubernetes identity that logged in with its own bearer token (the token method).
	UserObject, UserUID string
	// The Kubernetes identity: what RBAC and admission see.
	KubeName   string
	KubeUID    string
	KubeGroups []string
	KubeExtra  map[string][]string

	Project string // "" for an unscoped token
	Methods []string
	// AppCred is the application credential the token was made with, if any.
	AppCred string

	// kubernetes marks a Kubernetes bearer token shown as a token (kubeTokenView).
	kubernetes bool
}

// claims is a Token as JWT claims; short names keep the token short.
type claims struct {
	jwt.Claims
	Kova tokenClaims `json:"kova"`
}

type tokenClaims struct {
	Parent     string              `json:"pa,omitempty"`
	UserName   string              `json:"un"`
	UserObject string              `json:"uo,omitempty"`
	UserUID    string              `json:"uu,omitempty"`
	KubeName   string              `json:"kn"`
	KubeUID    string              `json:"ku,omitempty"`
	KubeGroups []string            `json:"kg,omitempty"`
	KubeExtra  map[string][]string `json:"kx,omitempty"`
	Project    string              `json:"p,omitempty"`
	Methods    []string            `json:"m"`
	AppCred    string              `json:"ac,omitempty"`
}

// User is the Kubernetes identity the token acts as.
func (t *Token) User() user.Info {
	return &user.DefaultInfo{Name: t.KubeName, UID: t.KubeUID, Groups: t.KubeGroups, Extra: t.KubeExtra}
}

// AuditIDs are Keystone's audit_ids: the token's own, then its parent's.
func (t *Token) AuditIDs() []string {
	if t.Parent != "" {
		return []string{t.AuditID, t.Parent}
	}
	return []string{t.AuditID}
}

// newAuditID is 16 random bytes in URL-safe base64 without padding, as Keystone's.
func newAuditID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign serializes t as a JWT signed with key, which it names (the "kid" header).
func sign(t *Token, key signingKey) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key.bytes}, opts)
	if err != nil {
		return "", err
	}
	c := claims{
		Claims: jwt.Claims{
			Issuer: issuer, Subject: t.UserID, ID: t.AuditID,
			IssuedAt: jwt.NewNumericDate(t.IssuedAt), Expiry: jwt.NewNumericDate(t.ExpiresAt),
		},
		Kova: tokenClaims{
			Parent: t.Parent, UserName: t.UserName, UserObject: t.UserObject, UserUID: t.UserUID,
			KubeName: t.KubeName, KubeUID: t.KubeUID, KubeGroups: t.KubeGroups, KubeExtra: t.KubeExtra,
			Project: t.Project, Methods: t.Methods, AppCred: t.AppCred,
		},
	}
	return jwt.Signed(signer).Claims(c).CompactSerialize()
}

// IsKovaToken reports whether token claims to be Kova's (unverified): such a token is
// Kova's to accept or refuse, never a Kubernetes token.
func IsKovaToken(token string) bool {
	if len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return false
	}
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return false
	}
	var c jwt.Claims
	return parsed.UnsafeClaimsWithoutVerification(&c) == nil && c.Issuer == issuer
}

var errBadToken = errors.New("the token is not valid")

// errExpired is a token whose signature holds but whose time is up.
var errExpired = errors.New("the token has expired")

// parse verifies token's signature with the key keyFor gives for the key it names and
// returns what it says; an expired token is returned too, with errExpired (for
// allow_expired).
func parse(token string, keyFor func(id string) ([]byte, error), now time.Time) (*Token, error) {
	if len(token) > maxTokenBytes {
		return nil, errBadToken
	}
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, errBadToken
	}
	if len(parsed.Headers) != 1 || parsed.Headers[0].Algorithm != string(jose.HS256) {
		return nil, errBadToken
	}
	key, err := keyFor(parsed.Headers[0].KeyID)
	if errors.Is(err, errUnknownKey) {
		return nil, errBadToken
	} else if err != nil {
		return nil, err
	}
	var c claims
	if err := parsed.Claims(key, &c); err != nil {
		return nil, errBadToken
	}
	if c.Issuer != issuer || c.Expiry == nil || c.IssuedAt == nil || c.ID == "" || c.Kova.KubeName == "" {
		return nil, errBadToken
	}
	t := &Token{
		AuditID: c.ID, Parent: c.Kova.Parent, IssuedAt: c.IssuedAt.Time(), ExpiresAt: c.Expiry.Time(),
		UserID: c.Subject, UserName: c.Kova.UserName, UserObject: c.Kova.UserObject, UserUID: c.Kova.UserUID,
		KubeName: c.Kova.KubeName, KubeUID: c.Kova.KubeUID, KubeGroups: c.Kova.KubeGroups, KubeExtra: c.Kova.KubeExtra,
		Project: c.Kova.Project, Methods: c.Kova.Methods, AppCred: c.Kova.AppCred,
	}
	if !now.Before(t.ExpiresAt) {
		return t, errExpired
	}
	return t, nil
}

// keystoneTime is how Keystone writes expires_at and issued_at.
func keystoneTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// JWTExpiry is the expiry a JWT claims, read without verifying it; false if token is no
// JWT or claims none (a legacy service-account token never expires). For a token that
// TokenReview has just accepted: a Kova token made from it lives no longer, and nova-api
// refuses it once expired.
func JWTExpiry(token string) (time.Time, bool) {
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return time.Time{}, false
	}
	var c jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&c); err != nil || c.Expiry == nil {
		return time.Time{}, false
	}
	return c.Expiry.Time(), true
}
