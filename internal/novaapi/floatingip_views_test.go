package novaapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// withAddress gives srv a fixed address on the tenant's network, as the controller does.
func withAddress(srv *computev1.Server, addr string) *computev1.Server {
	srv.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: addr, Version: 4,
		MACAddress: "fa:16:3e:00:00:01", Type: "fixed", NetworkNamespace: tenant, NetworkName: "net1"}}
	return srv
}

// floatingIP is an allocated floating IP of the tenant, pointing at server (none for "").
func floatingIP(name, uid, addr, server string) *computev1.FloatingIP {
	return &computev1.FloatingIP{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID("fip-" + uid), CreationTimestamp: metav1.NewTime(base)},
		Spec:       computev1.FloatingIPSpec{Pool: "public", Server: server},
		Status:     computev1.FloatingIPStatus{Address: addr},
	}
}

// floatingShown are the floating addresses a server view shows, by network label.
func floatingShown(t *testing.T, r *response) []string {
	t.Helper()
	srv, _ := r.object()["server"].(map[string]any)
	addrs, _ := srv["addresses"].(map[string]any)
	var out []string
	for _, list := range addrs {
		for _, a := range list.([]any) {
			if m := a.(map[string]any); m["OS-EXT-IPS:type"] == "floating" {
				out = append(out, m["addr"].(string))
			}
		}
	}
	slices.Sort(out)
	return out
}

// An association made through one replica shows in the server as the next read through
// another replica has it, whose cache has not got the association yet; a disassociation
// too; and a server no floating IP points at costs no LIST of floating IPs.
func TestFloatingAddressesReadYourWrites(t *testing.T) {
	srv := withAddress(server("srv-a", srvUID, base.Add(time.Minute)), "10.0.0.5")
	objs := standard(srv,
		floatingIP("fip-new", "1", "172.24.4.10", ""),
		floatingIP("fip-old", "2", "172.24.4.11", "srv-a"))
	e := newLaggingEnv(t, objs...)
	other := e.replica(objs...)

	if got := floatingShown(t, other.do(http.MethodGet, "/servers/"+srvUID, "").expect(http.StatusOK)); !slices.Equal(got, []string{"172.24.4.11"}) {
		t.Fatalf("before: floating addresses %v, want [172.24.4.11]", got)
	}
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"addFloatingIp": {"address": "172.24.4.10"}}`).expect(http.StatusAccepted)
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"removeFloatingIp": {"address": "172.24.4.11"}}`).expect(http.StatusAccepted)
	if got := floatingShown(t, other.do(http.MethodGet, "/servers/"+srvUID, "").expect(http.StatusOK)); !slices.Equal(got, []string{"172.24.4.10"}) {
		t.Errorf("after add and remove through another replica: floating addresses %v, want [172.24.4.10]", got)
	}
	if got := e.getServer("srv-a").Annotations[annFloatingIPs]; got != "fip-new" {
		t.Errorf("%s = %q, want fip-new", annFloatingIPs, got)
	}

	// The networking API's association (port_id) is named on the server too, through a
	// third replica whose cache has neither change; and a server no floating IP points at
	// costs no LIST of floating IPs.
	nw := Networking(Config{Client: e.c, Cache: snapshotOf(t, objs), ServerUIDs: listedUIDs{e.c}, PublicNamespace: public})
	send := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r = r.WithContext(WithCaller(r.Context(), Caller{User: &user.DefaultInfo{Name: "admin"}, Tenant: tenant, Root: "https://kova/networking/v2.0"}))
		w := httptest.NewRecorder()
		nw.ServeHTTP(w, r)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, w.Body.String())
		}
		return w.Code, out
	}
	code, body := send(http.MethodGet, "/ports?device_id="+srvUID, "")
	if code != http.StatusOK || len(body["ports"].([]any)) != 1 {
		t.Fatalf("ports: %d %v", code, body)
	}
	port := body["ports"].([]any)[0].(map[string]any)["id"].(string)
	if code, body := send(http.MethodPut, "/floatingips/fip-2", `{"floatingip": {"port_id": "`+port+`"}}`); code != http.StatusOK {
		t.Fatalf("associating through the networking API: %d %v", code, body)
	}
	if got := floatingShown(t, other.do(http.MethodGet, "/servers/"+srvUID, "").expect(http.StatusOK)); !slices.Equal(got, []string{"172.24.4.10", "172.24.4.11"}) {
		t.Errorf("after the networking API's association: floating addresses %v, want both", got)
	}
	if got := e.getServer("srv-a").Annotations[annFloatingIPs]; got != "fip-old,fip-new" {
		t.Errorf("%s = %q, want fip-old,fip-new", annFloatingIPs, got)
	}
}

// A server no floating IP points at is shown, alone and in a list, without a LIST of
// floating IPs.
func TestFloatingAddressesWithoutList(t *testing.T) {
	plain := withAddress(server("srv-a", srvUID, base.Add(time.Minute)), "10.0.0.5")
	objs := standard(plain, floatingIP("fip-idle", "1", "172.24.4.10", ""))
	e := newEnv(t, objs...)
	live := &readLog{r: e.c}
	e.h = New(Config{Client: e.c, Live: live, Cache: e.c, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public})
	if got := floatingShown(t, e.do(http.MethodGet, "/servers/"+srvUID, "").expect(http.StatusOK)); len(got) != 0 {
		t.Errorf("floating addresses %v, want none", got)
	}
	e.do(http.MethodGet, "/servers/detail", "").expect(http.StatusOK)
	if slices.Contains(live.read, "LIST floatingips") {
		t.Errorf("servers without floating IPs were shown with a LIST of them: %v", live.read)
	}
}

// Hints that no object can be named by (an annotation edited with kubectl) are ignored, not
// read, and at most maxFloatingHints are.
func TestFloatingHintsBounded(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Annotations[annFloatingIPs] = ",fip-a,Not A Name,fip-b,fip-c,fip-d,fip-e"
	if got := floatingHints(srv); !slices.Equal(got, []string{"fip-a", "fip-b", "fip-c", "fip-d"}) {
		t.Errorf("hints %v, want the first four valid names", got)
	}
}
