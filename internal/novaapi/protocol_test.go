package novaapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestVersionDocuments(t *testing.T) {
	h := Versions(func(*http.Request) string { return "http://127.0.0.1:8774" })

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 200 {
		t.Fatalf("GET / = %d", w.Code)
	}
	var list struct {
		Versions []map[string]any `json:"versions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Versions) != 1 {
		t.Fatalf("versions = %v", list.Versions)
	}
	v := list.Versions[0]
	if v["id"] != "v2.1" || v["version"] != "2.79" || v["min_version"] != "2.1" || v["status"] != "CURRENT" {
		t.Errorf("version = %v", v)
	}
	if got := keysOf(v); strings.Join(got, ",") != strings.Join(sampleVersionKeys(t), ",") {
		t.Errorf("keys %v, sample %v", got, sampleVersionKeys(t))
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v2.1", nil))
	var one struct {
		Version map[string]any `json:"version"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(one.Version), sampleKeys(t, "version_v2.1.json", "version"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys %v, want %v", got, want)
	}
	links := one.Version["links"].([]any)
	if links[0].(map[string]any)["href"] != "http://127.0.0.1:8774/v2.1/" {
		t.Errorf("self link %v", links[0])
	}
	if w.Header().Get("Openstack-Api-Version") != "compute 2.1" {
		t.Errorf("headers %v", w.Header())
	}
}

func sampleVersionKeys(t *testing.T) []string {
	return []string{"id", "links", "min_version", "status", "updated", "version"}
}

func TestMicroversions(t *testing.T) {
	e := newEnv(t, standard()...)
	tests := []struct {
		name    string
		headers []string
		code    int
		want    string // echoed version, or the fault message
		key     string
	}{
		{"none is 2.1", nil, 200, "2.1", ""},
		{"legacy header", []string{headerLegacyAPIVersion, "2.37"}, 200, "2.37", ""},
		{"standard header", []string{headerAPIVersion, "compute 2.53"}, 200, "2.53", ""},
		{"standard header wins", []string{headerAPIVersion, "compute 2.10", headerLegacyAPIVersion, "2.20"}, 200, "2.10", ""},
		{"other service ignored", []string{headerAPIVersion, "volume 3.5", headerLegacyAPIVersion, "2.20"}, 200, "2.20", ""},
		{"latest", []string{headerLegacyAPIVersion, "latest"}, 200, "2.79", ""},
		{"compute latest", []string{headerAPIVersion, "compute latest"}, 200, "2.79", ""},
		{"maximum", []string{headerLegacyAPIVersion, "2.79"}, 200, "2.79", ""},
		{"above maximum", []string{headerLegacyAPIVersion, "2.80"}, 406,
			"Version 2.80 is not supported by the API. Minimum is 2.1 and maximum is 2.79.", "computeFault"},
		{"out of range", []string{headerAPIVersion, "compute 9.9"}, 406,
			"Version 9.9 is not supported by the API. Minimum is 2.1 and maximum is 2.79.", "computeFault"},
		{"below minimum", []string{headerLegacyAPIVersion, "2.0"}, 406,
			"Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is 2.79.", "computeFault"},
		{"malformed", []string{headerLegacyAPIVersion, "2.latest"}, 400,
			"API Version String 2.latest is of invalid format. Must be of format MajorNum.MinorNum.", "badRequest"},
		{"leading zero", []string{headerLegacyAPIVersion, "2.01"}, 400,
			"API Version String 2.01 is of invalid format. Must be of format MajorNum.MinorNum.", "badRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodGet, "/flavors", "", tt.headers...)
			if tt.code != 200 {
				r.expectFault(tt.code, tt.key, tt.want)
				if r.Header().Get(headerAPIVersion) != "" {
					t.Errorf("a refused version is not echoed: %v", r.Header())
				}
				return
			}
			r.expect(200)
			if got := r.Header().Get(headerAPIVersion); got != "compute "+tt.want {
				t.Errorf("%s = %q", headerAPIVersion, got)
			}
			if got := r.Header().Get(headerLegacyAPIVersion); got != tt.want {
				t.Errorf("%s = %q", headerLegacyAPIVersion, got)
			}
			if got := r.Header().Get("Vary"); got != "OpenStack-API-Version, X-OpenStack-Nova-API-Version" {
				t.Errorf("Vary = %q", got)
			}
			if !strings.HasPrefix(r.Header().Get("X-Openstack-Request-Id"), "req-") {
				t.Errorf("no request id: %v", r.Header())
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t, standard()...)

	// What the Nova peer answers a path its router does not know: webob's page, in the
	// form Accept asks for, never a JSON fault.
	pages := []struct{ accept, contentType, body string }{
		{"", "text/html; charset=UTF-8", "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>"},
		{"*/*", "text/html; charset=UTF-8", "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>"},
		{"application/json", "application/json", `{"message": "The resource could not be found.<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}`},
		{"text/plain", "text/plain; charset=UTF-8", "404 Not Found\n\nThe resource could not be found.\n\n   "},
	}
	expectPage := func(t *testing.T, r *response, contentType, body string) {
		t.Helper()
		if r.Code != http.StatusNotFound || r.Header().Get("Content-Type") != contentType || r.Body.String() != body {
			t.Errorf("%d %q %q, want 404 %q %q", r.Code, r.Header().Get("Content-Type"), r.Body.String(), contentType, body)
		}
	}
	t.Run("unknown path is webob's page, as Accept asks", func(t *testing.T) {
		for _, p := range pages {
			for _, path := range []string{"/nope", "/servers/x/nope"} {
				expectPage(t, e.do(http.MethodGet, path, "", "Accept", p.accept), p.contentType, p.body)
			}
		}
	})
	t.Run("method not routed is the same 404 as in Nova", func(t *testing.T) {
		expectPage(t, e.do(http.MethodPatch, "/servers", ""), pages[0].contentType, pages[0].body)
	})
	t.Run("a fault is byte for byte the peer's, Python's separators and all", func(t *testing.T) {
		got := e.do(http.MethodGet, "/servers/00000000-0000-0000-0000-000000000000", "").Body.String()
		if want := `{"itemNotFound": {"code": 404, "message": "Instance 00000000-0000-0000-0000-000000000000 could not be found."}}`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		got = e.do(http.MethodGet, "/servers?limit=-1", "").Body.String()
		if want := `{"badRequest": {"code": 400, "message": "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"}}`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		if got := string(marshal(map[string]string{"message": "café 🚀"})); got != `{"message": "caf\u00e9 \ud83d\ude80"}` {
			t.Errorf("non-ASCII: %s", got)
		}
		// Python's json.dumps(v, sort_keys=True) of the same value: separators only outside
		// strings, whatever the escapes before them.
		v := map[string]any{"a,b": "c:d", "e": []any{`x"y,z`, "ü,é:", "😀", `back\slash:,\`, 1, nil,
			map[string]any{"k:": []string{",", ":"}}}, "n": "tab\t,new\nline"}
		if got, want := string(marshal(v)), `{"a,b": "c:d", "e": ["x\"y,z", "\u00fc,\u00e9:", "\ud83d\ude00", "back\\slash:,\\", 1, null, {"k:": [",", ":"]}], "n": "tab\t,new\nline"}`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("a method outside its microversions is Nova's fault", func(t *testing.T) {
		e.as("demo", "2.36").do(http.MethodGet, "/images", "").expectFault(404, "itemNotFound", "The resource could not be found.")
	})
	t.Run("body too large follows Accept too", func(t *testing.T) {
		small := New(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, MaxBodyBytes: 114688})
		body := `{"server": {"name": "` + strings.Repeat("x", 300000) + `"}}`
		for accept, want := range map[string]string{
			"application/json": `{"message": "Request is too large. Larger than max_request_body_size (114688).<br /><br />\n\n\n", "code": "413 Request Entity Too Large", "title": "Request Entity Too Large"}`,
			"text/plain":       "413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (114688).\n\n   ",
		} {
			r := httptest.NewRequest(http.MethodPost, "/servers", strings.NewReader(body))
			r.Header.Set("Accept", accept)
			r = r.WithContext(WithCaller(r.Context(), Caller{User: userInfo("demo"), Tenant: tenant, Root: root}))
			w := httptest.NewRecorder()
			small.ServeHTTP(w, r)
			if w.Code != http.StatusRequestEntityTooLarge || w.Body.String() != want {
				t.Errorf("Accept %s: %d %q, want 413 %q", accept, w.Code, w.Body.String(), want)
			}
		}
	})
	t.Run("error headers carry the version", func(t *testing.T) {
		r := e.as("demo", "2.37").do(http.MethodGet, "/servers/846aa4f9-c4b4-4c67-b8fd-74ee580dc309", "")
		r.expectFault(404, "itemNotFound", "Instance 846aa4f9-c4b4-4c67-b8fd-74ee580dc309 could not be found.")
		if r.Header().Get(headerLegacyAPIVersion) != "2.37" {
			t.Errorf("headers %v", r.Header())
		}
	})
	t.Run("body too large is oslo's HTML page, byte for byte the peer's", func(t *testing.T) {
		// testdata/error_413_too_large.html is what the Nova peer (Zed, max_request_body_size
		// 114688) answered to a POST /servers of 300 kB.
		want, err := os.ReadFile(filepath.Join("testdata", "error_413_too_large.html"))
		if err != nil {
			t.Fatal(err)
		}
		const novaLimit = 114688
		small := New(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, MaxBodyBytes: novaLimit})
		body := `{"server": {"name": "` + strings.Repeat("x", 2*novaLimit) + `"}}`
		for _, length := range []int64{int64(len(body)), -1} { // without a Content-Length the limit still holds
			r := httptest.NewRequest(http.MethodPost, "/servers", strings.NewReader(body))
			r.ContentLength = length
			r = r.WithContext(WithCaller(r.Context(), Caller{User: userInfo("demo"), Tenant: tenant, Root: root}))
			w := httptest.NewRecorder()
			small.ServeHTTP(w, r)
			if w.Code != http.StatusRequestEntityTooLarge || w.Body.String() != string(want) {
				t.Errorf("Content-Length %d: %d %q, want 413 %q", length, w.Code, w.Body.String(), want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
		}
	})
	t.Run("unsupported content type", func(t *testing.T) {
		e.do(http.MethodPost, "/servers", `{}`, "Content-Type", "application/xml").
			expectFault(415, "badMediaType", "Unsupported Content-Type")
	})
	t.Run("malformed body", func(t *testing.T) {
		e.do(http.MethodPost, "/servers", `{"server": `).expectFault(400, "badRequest", "Malformed request body")
	})
	t.Run("no caller", func(t *testing.T) {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/servers", nil))
		(&response{ResponseRecorder: w, t: t}).expectFault(401, "unauthorized", "Authentication required")
	})
	t.Run("WriteError", func(t *testing.T) {
		w := httptest.NewRecorder()
		WriteError(w, 403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
		(&response{ResponseRecorder: w, t: t}).expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
	})
}

func TestIndexFields(t *testing.T) {
	idx := &recordingIndexer{}
	if err := IndexFields(context.Background(), idx); err != nil {
		t.Fatal(err)
	}
	want := []string{"*v1alpha1.Image/.metadata.uid",
		"*v1alpha1.Network/.metadata.uid", "*v1alpha1.Image/.spec.members.project", "*v1alpha1.ServerAction/.spec.serverName", "*v1alpha1.FloatingIP/.spec.server", "*v1alpha1.Server/spec.serverGroup"}
	if strings.Join(idx.fields, ",") != strings.Join(want, ",") {
		t.Errorf("indexed %v, want %v", idx.fields, want)
	}
}

type recordingIndexer struct{ fields []string }

func (r *recordingIndexer) IndexField(_ context.Context, obj client.Object, field string, _ client.IndexerFunc) error {
	r.fields = append(r.fields, fmt.Sprintf("%T/%s", obj, field))
	return nil
}

func userInfo(name string) user.Info { return &user.DefaultInfo{Name: name} }
