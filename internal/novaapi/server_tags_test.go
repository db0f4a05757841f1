package novaapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kova-dev/kova/internal/lifecycle"
)

// The messages and codes are the peer's (Nova Zed at 2.26).
func TestServerTags(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...).as("demo", "2.26")
	tags := "/servers/" + srvUID + "/tags"

	r := e.do(http.MethodPut, tags+"/foo", "").expect(201)
	if r.Header().Get("Location") != root+tags+"/foo" {
		t.Errorf("Location %q", r.Header().Get("Location"))
	}
	e.do(http.MethodPut, tags+"/foo", "").expect(204)
	e.do(http.MethodGet, tags+"/foo", "").expect(204)
	if got := e.do(http.MethodGet, tags, "").object()["tags"]; fmt.Sprint(got) != "[foo]" {
		t.Errorf("tags %v", got)
	}
	e.do(http.MethodGet, tags+"/nope", "").expectFault(404, "itemNotFound", "Server "+srvUID+" has no tag 'nope'")
	e.do(http.MethodDelete, tags+"/nope", "").expectFault(404, "itemNotFound", "Instance "+srvUID+" has no tag 'nope'")
	e.do(http.MethodPut, tags+"/a,b", "").expectFault(400, "badRequest",
		"Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: 'a,b' does not match '^[^,/]*$'")
	e.do(http.MethodPut, tags, `{"tags": ["a/b"]}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute 0. Value: a/b. 'a/b' does not match '^[^,/]*$'")

	if got := e.do(http.MethodPut, tags, `{"tags": ["a", "b", "a"]}`).expect(200).object()["tags"]; fmt.Sprint(got) != "[a b]" {
		t.Errorf("replaced with %v", got)
	}
	if srv := e.getServer("srv-a"); !slices.Equal(srv.Spec.Tags, []string{"a", "b"}) {
		t.Errorf("spec.tags %v", srv.Spec.Tags)
	}
	if got := showServer(t, e, srvUID)["tags"]; fmt.Sprint(got) != "[a b]" {
		t.Errorf("the server shows %v", got)
	}
	e.do(http.MethodDelete, tags+"/a", "").expect(204)
	e.do(http.MethodDelete, tags, "").expect(204)
	if srv := e.getServer("srv-a"); len(srv.Spec.Tags) != 0 {
		t.Errorf("spec.tags after deleting them all %v", srv.Spec.Tags)
	}
	e.as("demo", "2.25").do(http.MethodGet, tags, "").expectFault(404, "itemNotFound", "The resource could not be found.")
}

func TestServerTagBounds(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...).as("demo", "2.26")
	tags := "/servers/" + srvUID + "/tags"
	fifty := make([]string, 50)
	for i := range fifty {
		fifty[i] = fmt.Sprintf(`"t%d"`, i)
	}
	e.do(http.MethodPut, tags, `{"tags": [`+strings.Join(fifty, ",")+`]}`).expect(200)
	e.do(http.MethodPut, tags+"/one-more", "").expectFault(400, "badRequest", "The number of tags exceeded the per-server limit 50")
	e.do(http.MethodPut, tags, `{"tags": [`+strings.Join(fifty, ",")+`, "x"]}`).expect(400)
	long := strings.Repeat("x", 61)
	e.do(http.MethodPut, tags+"/"+long, "").expectFault(400, "badRequest",
		"Tag '"+long+"' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: '"+long+"' is too long")
}

func TestServerTagsNeedASettledServer(t *testing.T) {
	building := inState(server("srv-a", srvUID, base), lifecycle.VMBuilding, lifecycle.TaskSpawning, lifecycle.PowerNoState)
	e := newEnv(t, standard(building)...).as("demo", "2.26")
	e.do(http.MethodPut, "/servers/"+srvUID+"/tags/foo", "").expectFault(409, "conflictingRequest",
		"Cannot 'update tag' instance "+srvUID+" while it is in vm_state building")
	if srv := e.getServer("srv-a"); len(srv.Spec.Tags) != 0 {
		t.Errorf("a refused tag was written: %v", srv.Spec.Tags)
	}
	e.do(http.MethodGet, "/servers/"+srvUID+"/tags", "").expect(200)
}

func TestServerPasswordAndZones(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	if got := e.do(http.MethodGet, "/servers/"+srvUID+"/os-server-password", "").expect(200).object(); fmt.Sprint(got) != "map[password:]" {
		t.Errorf("password %v", got)
	}
	e.do(http.MethodDelete, "/servers/"+srvUID+"/os-server-password", "").expect(204)
	e.do(http.MethodGet, "/servers/00000000-0000-4000-8000-000000000000/os-server-password", "").expect(404)
	zones := e.do(http.MethodGet, "/os-availability-zone", "").expect(200).object()
	if fmt.Sprint(zones) != "map[availabilityZoneInfo:[map[hosts:<nil> zoneName:nova zoneState:map[available:true]]]]" {
		t.Errorf("zones %v", zones)
	}
}
