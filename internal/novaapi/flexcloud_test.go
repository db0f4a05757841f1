package novaapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func flexDo(t *testing.T, e *env, account, body string) *response {
	t.Helper()
	h := FlexCloud(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, PublicNamespace: public})
	r := httptest.NewRequest(http.MethodPost, "/servers", strings.NewReader(body))
	r = r.WithContext(WithCaller(r.Context(), Caller{User: &user.DefaultInfo{Name: "demo"}, Tenant: account,
		Root: "http://api.example/accounts/" + account + "/flexcloud"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return &response{ResponseRecorder: w, t: t}
}

func TestFlexCloudCreate(t *testing.T) {
	e := newEnv(t, standard()...)
	prefix := "http://api.example/accounts/demo/flexcloud"
	body := `{"server": {"flavorRef": "` + prefix + `/flavors/1/", "securityGroupRef": "` + prefix + `/os-security-groups/default/",
		"name": "test_server_create", "imageRef": "` + prefix + `/images/` + imageUID + `/", "zone": "AUS001"}}`

	r := flexDo(t, e, "demo", body).expect(202)
	s := r.object()["server"].(map[string]any)
	id := s["id"].(string)
	for k, want := range map[string]any{"status": "BUILD", "updated": nil, "hostId": "", "zone": "AUS001", "name": "test_server_create",
		"created": "", "tenantId": nil, "accessIPv6": nil, "progress": float64(0), "userId": "demo"} {
		if s[k] != want {
			t.Errorf("%s = %#v, want %#v", k, s[k], want)
		}
	}
	if pw, _ := s["adminPass"].(string); len(pw) != 12 {
		t.Errorf("adminPass %v", s["adminPass"])
	}
	if s["links"].([]any)[0].(map[string]any)["href"] != prefix+"/servers/"+id+"/" || r.Header().Get("Location") != prefix+"/servers/"+id+"/" {
		t.Errorf("links %v Location %q", s["links"], r.Header().Get("Location"))
	}
	if s["image"].(map[string]any)["id"] != imageUID || s["flavor"].(map[string]any)["id"] != "1" || s["securityGroup"].(map[string]any)["id"] != "default" {
		t.Errorf("refs %v %v %v", s["image"], s["flavor"], s["securityGroup"])
	}
	srv := findServer(t, e, id)
	if srv.Spec.AvailabilityZone != "AUS001" || srv.Spec.FlavorRef != "1" || srv.Spec.ImageRef != "cirros" || len(srv.Spec.Networks) != 1 {
		t.Errorf("spec %+v", srv.Spec)
	}

	t.Run("image by name, own password", func(t *testing.T) {
		s := flexDo(t, e, "demo", `{"server": {"flavorRef": "`+prefix+`/flavors/1", "name": "n", "imageRef": "`+prefix+`/images/cirros", "adminPass": "pw"}}`).
			expect(202).object()["server"].(map[string]any)
		if s["adminPass"] != "pw" || s["image"].(map[string]any)["name"] != "cirros-0.6.2-x86_64-disk" {
			t.Errorf("server %v", s)
		}
	})
	errs := []struct{ name, account, body, key, msg string }{
		{"bad image", "demo", `{"server": {"flavorRef": "` + prefix + `/flavors/1", "name": "n", "imageRef": "` + prefix + `/images/fake"}}`, "computeFault", "Bad imageRef"},
		{"bad flavor", "demo", `{"server": {"flavorRef": "` + prefix + `/flavors/99", "name": "n", "imageRef": "` + prefix + `/images/cirros"}}`, "computeFault", "Bad flavorRef"},
		{"bad security group", "demo", `{"server": {"flavorRef": "1", "name": "n", "imageRef": "cirros", "securityGroupRef": "` + prefix + `/os-security-groups/web/"}}`, "computeFault", "Bad securityGroupRef"},
		{"bad body", "demo", `{"server": {"name": "n", "colour": "red"}}`, "computeFault", "Bad request body"},
		{"unknown account", "fake", body, "itemNotFound", "Resource not found"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := flexDo(t, e, tt.account, tt.body)
			code := 400
			if tt.key == "itemNotFound" {
				code = 404
			}
			r.expect(code)
			f := r.object()[tt.key].(map[string]any)
			if f["message"] != tt.msg || f["code"] != float64(code) || f["details"] != "" || f["errorid"] == "" {
				t.Errorf("fault %v", f)
			}
		})
	}
	var list computev1.ServerList
	_ = e.c.List(context.Background(), &list)
	if len(list.Items) != 2 {
		t.Errorf("%d servers, want 2", len(list.Items))
	}
}

// TestFlexCloudForcedHost: a zone that forces a host is for admins on FlexCloud as on
// /v2.1 (it was accepted from anyone there).
func TestFlexCloudForcedHost(t *testing.T) {
	e := newEnv(t, standard()...)
	prefix := "http://api.example/accounts/demo/flexcloud"
	body := `{"server": {"flavorRef": "` + prefix + `/flavors/1/", "name": "n", "imageRef": "` + prefix + `/images/` + imageUID + `/", "zone": "nova:host-a"}}`
	r := flexDo(t, e, "demo", body).expect(http.StatusForbidden)
	f := r.object()["forbidden"].(map[string]any)
	if f["message"] != "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed." || f["code"] != float64(403) {
		t.Errorf("fault %v", f)
	}
	// The same body's zone through /v2.1.
	e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody(`, "availability_zone": "nova:host-a"`)).expectFault(http.StatusForbidden,
		"forbidden", "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.")
	var list computev1.ServerList
	_ = e.c.List(context.Background(), &list)
	if len(list.Items) != 0 {
		t.Errorf("%d servers made with a forced host", len(list.Items))
	}
}
