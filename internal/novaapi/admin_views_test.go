package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// peerViews are the keys of the views the Nova peer showed its project member (demo) and
// its admin, per microversion (testdata/peer_admin_views.json).
type peerViews map[string]map[string]struct {
	Server []string `json:"server"`
	Detail []string `json:"detail"`
	Action []string `json:"action"`
	Event  []string `json:"event"`
}

func loadPeerViews(t *testing.T) peerViews {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "peer_admin_views.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "_comment")
	views := peerViews{}
	for v, r := range raw {
		var byUser map[string]struct {
			Server []string `json:"server"`
			Detail []string `json:"detail"`
			Action []string `json:"action"`
			Event  []string `json:"event"`
		}
		if err := json.Unmarshal(r, &byUser); err != nil {
			t.Fatal(err)
		}
		views[v] = byUser
	}
	return views
}

// adminOnly is what the admin's keys have beyond the member's.
func adminOnly(admin, member []string) []string {
	var out []string
	for _, k := range admin {
		if !slices.Contains(member, k) {
			out = append(out, k)
		}
	}
	return out
}

// TestAdminViewsMatchThePeer: what Nova shows only to its admin (the cloud operator, not a
// tenant's kova-admin) Kova shows only to it, key for key with the peer, in a server, a
// server list's detail and an instance action with its events, at each microversion the
// peer was asked at.
func TestAdminViewsMatchThePeer(t *testing.T) {
	peer := loadPeerViews(t)
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID
	reqID := e.do(http.MethodPost, path+"/action", `{"reboot": {"type": "HARD"}}`).expect(202).Header().Get("X-Openstack-Request-Id")
	sa := e.serverActions()[0]
	start := metav1.NewTime(time.Now())
	sa.Status = computev1.ServerActionStatus{Phase: computev1.ActionSucceeded, StartTime: &start, CompletionTime: &start}
	if err := e.c.Status().Update(context.Background(), &sa); err != nil {
		t.Fatal(err)
	}
	for v, want := range peer {
		t.Run(v, func(t *testing.T) {
			got := map[string][]string{}
			events := map[string][]string{}
			for _, user := range []string{"demo", "admin"} {
				got[user+" server"] = keysOf(e.as(user, v).do(http.MethodGet, path, "").expect(200).object()["server"].(map[string]any))
				list := e.as(user, v).do(http.MethodGet, "/servers/detail", "").expect(200).object()["servers"].([]any)
				got[user+" detail"] = keysOf(list[0].(map[string]any))
				action := e.as(user, v).do(http.MethodGet, path+"/os-instance-actions/"+reqID, "").expect(200).object()["instanceAction"].(map[string]any)
				got[user+" action"] = keysOf(action)
				if evs, ok := action["events"].([]any); ok && len(evs) > 0 {
					events[user] = keysOf(evs[0].(map[string]any))
				}
			}
			for _, view := range []string{"server", "detail"} {
				pick := func(user string) []string {
					if view == "server" {
						return want[user].Server
					}
					return want[user].Detail
				}
				if g, w := adminOnly(got["admin "+view], got["demo "+view]), adminOnly(pick("admin"), pick("demo")); !slices.Equal(g, w) {
					t.Errorf("%s: admin-only keys %v, the peer's %v", view, g, w)
				}
			}
			for _, user := range []string{"demo", "admin"} {
				// The peer's servers have no ports, hence no security_groups; Kova's have.
				if g, w := slices.DeleteFunc(got[user+" server"], func(k string) bool { return k == "security_groups" }), want[user].Server; !slices.Equal(g, w) {
					t.Errorf("%s's server: keys %v, the peer's %v", user, g, w)
				}
				if g, w := slices.DeleteFunc(got[user+" detail"], func(k string) bool { return k == "security_groups" }), want[user].Detail; !slices.Equal(g, w) {
					t.Errorf("%s's detail: keys %v, the peer's %v", user, g, w)
				}
				if g, w := got[user+" action"], want[user].Action; !slices.Equal(g, w) {
					t.Errorf("%s's instance action: keys %v, the peer's %v", user, g, w)
				}
				if g, w := events[user], want[user].Event; !slices.Equal(g, w) {
					t.Errorf("%s's events: keys %v, the peer's %v", user, g, w)
				}
			}
		})
	}
}
