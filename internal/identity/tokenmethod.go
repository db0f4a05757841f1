package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

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
	if exp, ok := JWTExpiry(token); ok && exp.Before(expires) {
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
	if exp, ok := JWTExpiry(token); ok {
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
