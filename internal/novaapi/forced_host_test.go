package novaapi

import (
	"context"
	"net/http"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// TestForcedHostZone: Nova's admin may force a host through availability_zone ("zone:host",
// "zone:host:node", "zone::node"); the server is asked for with that zone, which the
// controller honours, and shows the zone part only. More than two colons is Nova's 400,
// answered before the policy, to anyone.
func TestForcedHostZone(t *testing.T) {
	e := newEnv(t, standard()...)
	for _, zone := range []string{"nova:sim-host-1", "nova:sim-host-1:sim-host-1", "nova::sim-host-1"} {
		r := e.as("admin", "2.37").do(http.MethodPost, "/servers", createBody(`, "availability_zone": "`+zone+`"`)).expect(http.StatusAccepted)
		id := r.object()["server"].(map[string]any)["id"].(string)
		var list computev1.ServerList
		if err := e.c.List(context.Background(), &list); err != nil {
			t.Fatal(err)
		}
		var srv *computev1.Server
		for i := range list.Items {
			if string(list.Items[i].UID) == id {
				srv = &list.Items[i]
			}
		}
		if srv == nil || srv.Spec.AvailabilityZone != zone {
			t.Fatalf("%s: server %s not made with the zone: %+v", zone, id, srv)
		}
		got := e.as("admin", "2.37").do(http.MethodGet, "/servers/"+id, "").expect(http.StatusOK).object()["server"].(map[string]any)
		if got["OS-EXT-AZ:availability_zone"] != "nova" {
			t.Errorf("%s: OS-EXT-AZ:availability_zone = %v, want the zone part only", zone, got["OS-EXT-AZ:availability_zone"])
		}
	}
	for _, user := range []string{"demo", "admin"} {
		e.as(user, "2.37").do(http.MethodPost, "/servers", createBody(`, "availability_zone": "nova:a:b:c"`)).expectFault(http.StatusBadRequest,
			"badRequest", "Invalid input received: Unable to parse availability_zone")
	}
	// "nova:" names no host: no policy to ask, as in Nova.
	e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody(`, "availability_zone": "nova:"`)).expect(http.StatusAccepted)
}
