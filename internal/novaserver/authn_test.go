package novaserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// TestRefuseExpiredTokens: a token is refused from its expiry on, even where the wrapped
// authenticator (a TokenReview cache, or kube-apiserver's leeway) would still accept it.
func TestRefuseExpiredTokens(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	sign := func(expiry *time.Time) string {
		claims := jwt.Claims{Subject: "system:serviceaccount:acme:bot"}
		if expiry != nil {
			claims.Expiry = jwt.NewNumericDate(*expiry)
		}
		token, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }

	asked := 0
	acceptAll := authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
		asked++
		return &authenticator.Response{User: &user.DefaultInfo{Name: "bot"}}, true, nil
	})
	a := refuseExpiredTokens(acceptAll, func() time.Time { return now })
	for _, c := range []struct {
		name, authorization string
		ok                  bool
	}{
		{"expires in a second", "Bearer " + sign(at(time.Second)), true},
		{"expires now", "Bearer " + sign(at(0)), false},
		{"expired a second ago", "Bearer " + sign(at(-time.Second)), false},
		{"no expiry (a legacy token)", "Bearer " + sign(nil), true},
		{"not a JWT", "Bearer opaque-token", true},
		{"no token", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			asked = 0
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if c.authorization != "" {
				r.Header.Set("Authorization", c.authorization)
			}
			_, ok, err := a.AuthenticateRequest(r)
			if err != nil || ok != c.ok {
				t.Fatalf("got %v, %v; want %v", ok, err, c.ok)
			}
			if want := map[bool]int{true: 1, false: 0}[c.ok]; asked != want {
				t.Fatalf("the wrapped authenticator was asked %d times, want %d", asked, want)
			}
		})
	}
}
