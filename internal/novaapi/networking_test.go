package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// neutron sends one request to the networking API over e's objects.
func (e *env) neutron(path string) (int, map[string]any) {
	e.t.Helper()
	h := Networking(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, PublicNamespace: public})
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r = r.WithContext(WithCaller(r.Context(), Caller{User: &user.DefaultInfo{Name: e.user}, Tenant: tenant, Root: "https://kova/networking/v2.0"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		e.t.Fatalf("%s: %v: %s", path, err, w.Body.String())
	}
	return w.Code, body
}

func ids(items any) []string {
	var out []string
	for _, it := range items.([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// networkingEnv is a tenant with its network net1 (10.0.0.0/24), ServiceNet, another
// tenant's network, and a server with an address on each of the first two.
func networkingEnv(t *testing.T) *env {
	serviceNet := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: rules.ServiceNetNetworkID, UID: "99999999-0000-0000-0000-000000000000"},
		Spec: computev1.NetworkSpec{Label: "private", CIDR: "10.176.0.0/16", Shared: true}}
	otherTenant := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "theirs", UID: "88888888-0000-0000-0000-000000000000"},
		Spec: computev1.NetworkSpec{CIDR: "10.5.0.0/24"}}
	srv := server("srv-a", srvUID, base)
	srv.Status.Addresses = []computev1.ServerAddress{
		{Network: "private", Address: "10.0.0.7", Version: 4, MACAddress: "fa:16:3e:00:00:07", Type: "fixed", NetworkNamespace: tenant, NetworkName: "net1"},
		{Network: "private", Address: "10.176.0.9", Version: 4, Type: "fixed", NetworkNamespace: public, NetworkName: rules.ServiceNetNetworkID},
	}
	return newEnv(t, standard(serviceNet, otherTenant, srv)...)
}

func TestNetworkingNetworks(t *testing.T) {
	e := networkingEnv(t)
	code, body := e.neutron("/networks")
	if code != 200 || !slices.Equal(ids(body["networks"]), sortedIDs(netUID, rules.ServiceNetNetworkID)) {
		t.Fatalf("networks %d %v", code, body)
	}
	code, body = e.neutron("/networks?name=private&shared=true")
	if code != 200 || !slices.Equal(ids(body["networks"]), []string{rules.ServiceNetNetworkID}) {
		t.Errorf("shared private: %d %v", code, body)
	}
	_, body = e.neutron("/networks?name=private&shared=False&fields=id&fields=name")
	if fmt := body["networks"].([]any); len(fmt) != 1 || len(fmt[0].(map[string]any)) != 2 || fmt[0].(map[string]any)["id"] != netUID {
		t.Errorf("the tenant's private, id and name only: %v", body)
	}
	code, body = e.neutron("/networks/" + rules.ServiceNetNetworkID)
	nw := body["network"].(map[string]any)
	if code != 200 || nw["name"] != "private" || nw["shared"] != true || nw["tenant_id"] != public ||
		!slices.Equal(toStrings(nw["subnets"]), []string{views.SubnetID(rules.ServiceNetNetworkID)}) {
		t.Errorf("show %d %v", code, body)
	}
	for _, path := range []string{"/networks/88888888-0000-0000-0000-000000000000", "/networks/theirs", "/networks/private"} {
		if code, body := e.neutron(path); code != 404 || body["NeutronError"].(map[string]any)["type"] != "NetworkNotFound" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
	code, body = e.neutron("/networks?colour=red")
	if code != 400 || body["NeutronError"].(map[string]any)["message"] != "['colour'] is invalid attribute for filtering" {
		t.Errorf("unknown filter: %d %v", code, body)
	}
	// Paging: one at a time, with a next link.
	_, body = e.neutron("/networks?limit=1")
	if len(body["networks"].([]any)) != 1 || body["networks_links"] == nil {
		t.Errorf("page %v", body)
	}
	// A network made a moment ago is listed at once (read past the cache).
	made := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "11111111-2222-3333-4444-555555555555"},
		Spec: computev1.NetworkSpec{CIDR: "10.7.0.0/24"}}
	if err := e.c.Create(context.Background(), made); err != nil {
		t.Fatal(err)
	}
	if _, body := e.neutron("/networks?name=11111111-2222-3333-4444-555555555555"); len(body["networks"].([]any)) != 1 {
		t.Errorf("a new network: %v", body)
	}
}

func TestNetworkingSubnetsAndPorts(t *testing.T) {
	e := networkingEnv(t)
	code, body := e.neutron("/subnets?network_id=" + netUID)
	sn := body["subnets"].([]any)
	if code != 200 || len(sn) != 1 {
		t.Fatalf("subnets %d %v", code, body)
	}
	s := sn[0].(map[string]any)
	if s["cidr"] != "10.0.0.0/24" || s["gateway_ip"] != "10.0.0.1" || s["ip_version"] != float64(4) ||
		s["id"] != views.SubnetID(netUID) || s["allocation_pools"].([]any)[0].(map[string]any)["end"] != "10.0.0.254" {
		t.Errorf("subnet %v", s)
	}

	code, body = e.neutron("/ports?device_id=" + srvUID)
	ports := body["ports"].([]any)
	if code != 200 || len(ports) != 2 {
		t.Fatalf("ports %d %v", code, body)
	}
	code, body = e.neutron("/ports?network_id=" + netUID)
	p := body["ports"].([]any)[0].(map[string]any)
	if code != 200 || p["device_id"] != srvUID || p["mac_address"] != "fa:16:3e:00:00:07" || p["device_owner"] != "compute:nova" ||
		p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != "10.0.0.7" || p["status"] != "ACTIVE" {
		t.Errorf("port %v", p)
	}
	if code, body := e.neutron("/ports/" + p["id"].(string)); code != 200 || body["port"].(map[string]any)["id"] != p["id"] {
		t.Errorf("show port %d %v", code, body)
	}
	if _, body := e.neutron("/ports?fixed_ips=ip_address%3D10.176.0.9"); len(body["ports"].([]any)) != 1 {
		t.Errorf("by address %v", body)
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
