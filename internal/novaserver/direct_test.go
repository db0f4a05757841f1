package novaserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// TestDirectRouting checks how direct paths map onto the aggregated form, with a chain that
// records what reached it instead of the generic server's.
func TestDirectRouting(t *testing.T) {
	type seen struct{ path, authorization, remoteUser, root string }
	var got *seen
	chain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = &seen{path: r.URL.EscapedPath(), authorization: r.Header.Get("Authorization"), remoteUser: r.Header.Get("X-Remote-User")}
		if d := directFrom(r.Context()); d != nil {
			got.root = d.root
		}
	})
	tokens := authenticator.TokenFunc(func(_ context.Context, token string) (*authenticator.Response, bool, error) {
		names := map[string]string{"sa": "system:serviceaccount:acme:bot", "human": "alice"}
		if name, ok := names[token]; ok {
			return &authenticator.Response{User: &user.DefaultInfo{Name: name}}, true, nil
		}
		return nil, false, nil
	})
	d := &direct{
		chain:         chain,
		versions:      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = &seen{path: "versions " + r.URL.Path} }),
		writeError:    func(w http.ResponseWriter, code int, _ string) { w.WriteHeader(code) },
		authenticator: bearertoken.New(tokens),
		requestInfo:   &request.RequestInfoFactory{APIPrefixes: sets.NewString("apis"), GrouplessAPIPrefixes: sets.NewString()},
		defaultTenant: "fallback",
		base:          "https://nova.example:8774",
	}
	const base = "https://nova.example:8774"
	for _, c := range []struct {
		name, path string
		header     map[string]string
		code       int
		want       seen
	}{
		{"tenant in the path", "/v2.1/demo/servers/x/action", map[string]string{"X-Auth-Token": "sa", "X-Remote-User": "admin"}, 200,
			seen{path: tenantsPath + "demo/servers/x/action", authorization: "Bearer sa", root: base + "/v2.1/demo"}},
		{"tenant from a service-account token", "/v2.1/servers/detail", map[string]string{"X-Auth-Token": "sa"}, 200,
			seen{path: tenantsPath + "acme/servers/detail", authorization: "Bearer sa", root: base + "/v2.1"}},
		{"default tenant for other users", "/v2.1/os-keypairs", map[string]string{"X-Auth-Token": "human"}, 200,
			seen{path: tenantsPath + "fallback/os-keypairs", authorization: "Bearer human", root: base + "/v2.1"}},
		{"escaped characters are kept", "/v2.1/demo/servers/x/metadata/a%2Fb", map[string]string{"X-Auth-Token": "sa"}, 200,
			seen{path: tenantsPath + "demo/servers/x/metadata/a%2Fb", authorization: "Bearer sa", root: base + "/v2.1/demo"}},
		{"FlexCloud", "/accounts/123/flexcloud/servers", map[string]string{"X-Auth-Token": "sa"}, 200,
			seen{path: tenantsPath + "123/servers", authorization: "Bearer sa", root: base + "/accounts/123/flexcloud"}},
		{"version documents", "/v2.1/demo", nil, 200, seen{path: "versions /v2.1"}},
		{"not a tenant", "/v2.1/Not_A_Namespace/servers", map[string]string{"X-Auth-Token": "sa"}, 404, seen{}},
		{"not FlexCloud", "/accounts/123/other/servers", map[string]string{"X-Auth-Token": "sa"}, 404, seen{}},
		{"elsewhere", "/apis/nova.kova.dev/v1/namespaces/demo/servers", map[string]string{"X-Auth-Token": "sa"}, 404, seen{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got = nil
			// The links' base is the configured endpoint, whatever Host the client sends.
			r := httptest.NewRequest(http.MethodGet, "https://evil.example"+c.path, nil)
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			d.ServeHTTP(w, r)
			if w.Code != c.code {
				t.Fatalf("status %d, want %d", w.Code, c.code)
			}
			if c.code != http.StatusOK {
				if got != nil {
					t.Fatalf("reached %+v, want nothing", *got)
				}
				return
			}
			if got == nil || *got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
