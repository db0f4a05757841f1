package novaserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// A token kube-apiserver could not review (it is down or restarting) is not a wrong token:
// the direct listener answers Nova's 503 with Retry-After, which clients send again, and a
// token TokenReview refused stays a 401.
func TestUnreviewableTokenIsUnavailable(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "https://127.0.0.1:6443/apis/authentication.k8s.io/v1/tokenreviews",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tokens := authenticator.TokenFunc(func(_ context.Context, token string) (*authenticator.Response, bool, error) {
		switch token {
		case "down":
			return nil, false, refused
		default:
			return nil, false, errors.New("invalid bearer token")
		}
	})
	auth := markUnavailable(bearertoken.New(tokens))
	// The generic chain's authentication filter: a failed authentication is a 401.
	chain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok, _ := auth.AuthenticateRequest(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	type answer struct {
		code int
		msg  string
	}
	var got answer
	d := &direct{
		chain:         chain,
		writeError:    func(w http.ResponseWriter, code int, msg string) { got = answer{code, msg}; w.WriteHeader(code) },
		authenticator: bearertoken.New(tokens),
		requestInfo:   &request.RequestInfoFactory{APIPrefixes: sets.NewString("apis"), GrouplessAPIPrefixes: sets.NewString()},
		base:          "https://nova.example:8774",
	}
	for _, c := range []struct {
		token, retryAfter string
		want              answer
	}{
		{"down", "1", answer{http.StatusServiceUnavailable, msgAuthUnavailable}},
		{"forged", "", answer{http.StatusUnauthorized, msgUnauthorized}},
	} {
		t.Run(c.token, func(t *testing.T) {
			got = answer{}
			r := httptest.NewRequest(http.MethodGet, "https://nova.example:8774/v2.1/demo/servers", nil)
			r.Header.Set("X-Auth-Token", c.token)
			w := httptest.NewRecorder()
			d.ServeHTTP(w, r)
			if got != c.want || w.Code != c.want.code {
				t.Fatalf("answered %d %+v, want %+v", w.Code, got, c.want)
			}
			if ra := w.Header().Get("Retry-After"); ra != c.retryAfter {
				t.Fatalf("Retry-After %q, want %q", ra, c.retryAfter)
			}
		})
	}
}
