package novaapi

import (
	"fmt"
	"net/http"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// TestServerMetadata replays the nova-peer transcript's metadata calls and compares the
// bodies with its samples.
func TestServerMetadata(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID + "/metadata"

	steps := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{http.MethodPost, path, `{"metadata": {"a": "1", "b": "2"}}`, 200, `map[metadata:map[a:1 b:2 role:demo]]`}, // metadata_update.json
		{http.MethodPut, path + "/a", `{"meta": {"a": "one"}}`, 200, `map[meta:map[a:one]]`},                       // metadata_item_put.json
		{http.MethodGet, path + "/a", "", 200, `map[meta:map[a:one]]`},                                             // metadata_item.json
		{http.MethodDelete, path + "/b", "", 204, ``},
		{http.MethodPut, path, `{"metadata": {"a": "one", "role": "demo"}}`, 200, `map[metadata:map[a:one role:demo]]`}, // metadata_replace.json
		{http.MethodGet, path, "", 200, `map[metadata:map[a:one role:demo]]`},                                           // metadata.json
	}
	for _, s := range steps {
		r := e.do(s.method, s.path, s.body).expect(s.code)
		if s.want != "" && fmt.Sprint(r.object()) != s.want {
			t.Errorf("%s %s = %s, want %s", s.method, s.path, r.Body.String(), s.want)
		}
	}
	if got := e.getServer("srv-a").Spec.Metadata; fmt.Sprint(got) != "map[a:one role:demo]" {
		t.Errorf("spec.metadata %v", got)
	}

	errs := []struct {
		method, path, body, key, msg string
		code                         int
	}{
		{http.MethodGet, path + "/nope", "", "itemNotFound", "Metadata item was not found", 404},
		{http.MethodDelete, path + "/nope", "", "itemNotFound", "Metadata item was not found", 404},
		{http.MethodPut, path + "/a", `{"meta": {"b": "x"}}`, "badRequest", "Request body and URI mismatch", 400},
		{http.MethodPut, path + "/a", `{"meta": {"a": "x", "b": "y"}}`, "badRequest",
			"Invalid input for field/attribute meta. Value: {'a': 'x', 'b': 'y'}. {'a': 'x', 'b': 'y'} has too many properties", 400},
		{http.MethodPost, path, `{"metadata": {"k": 1}}`, "badRequest", "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'", 400},
		{http.MethodPost, path, `{"meta": {}}`, "badRequest", "'metadata' is a required property", 400},
		{http.MethodPost, path, `{"metadata": ` + manyMeta(128) + `}`, "forbidden", "Maximum number of metadata items exceeds 128", 403},
	}
	for _, tt := range errs {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			e.do(tt.method, tt.path, tt.body).expectFault(tt.code, tt.key, tt.msg)
		})
	}
}

func TestServerMetadataGuards(t *testing.T) {
	lockedSrv := locked(server("srv-l", "00000000-0000-0000-0000-0000000000ff", base))
	building := server("srv-b", "00000000-0000-0000-0000-0000000000bb", base)
	building.Status = computev1.ServerStatus{}
	rescued := inState(server("srv-r", "00000000-0000-0000-0000-0000000000cc", base), lifecycle.VMRescued, "", lifecycle.PowerShutdown)
	e := newEnv(t, standard(lockedSrv, building, rescued)...)

	e.do(http.MethodPost, "/servers/"+string(lockedSrv.UID)+"/metadata", `{"metadata": {"a": "1"}}`).
		expectFault(409, "conflictingRequest", "Instance "+string(lockedSrv.UID)+" is locked")
	e.as("admin", "").do(http.MethodPost, "/servers/"+string(lockedSrv.UID)+"/metadata", `{"metadata": {"a": "1"}}`).expect(200)
	e.do(http.MethodPut, "/servers/"+string(building.UID)+"/metadata", `{"metadata": {"a": "1"}}`).
		expectFault(409, "conflictingRequest", "Cannot 'update metadata' instance "+string(building.UID)+" while it is in vm_state building")
	e.do(http.MethodDelete, "/servers/"+string(rescued.UID)+"/metadata/role", "").
		expectFault(409, "conflictingRequest", "Cannot 'delete metadata' instance "+string(rescued.UID)+" while it is in vm_state rescued")
}

func TestImageMetadata(t *testing.T) {
	own := cirros()
	own.Namespace, own.Name, own.UID = tenant, "own", "44444444-0000-0000-0000-000000000000"
	own.Spec.Visibility = "private"
	own.Spec.Metadata = map[string]string{"os_distro": "cirros"}
	e := newEnv(t, standard(own)...)
	path := "/images/" + string(own.UID) + "/metadata"

	e.do(http.MethodPost, path, `{"metadata": {"a": "1"}}`).expect(200)
	e.do(http.MethodPut, path+"/b", `{"meta": {"b": "2"}}`).expect(200)
	if got := fmt.Sprint(e.do(http.MethodGet, path, "").expect(200).object()); got != "map[metadata:map[a:1 b:2 os_distro:cirros]]" {
		t.Errorf("metadata %s", got)
	}
	e.do(http.MethodDelete, path+"/a", "").expect(204)
	if got := fmt.Sprint(e.do(http.MethodGet, path+"/b", "").expect(200).object()); got != "map[meta:map[b:2]]" {
		t.Errorf("item %s", got)
	}
	e.do(http.MethodPut, path, `{"metadata": {"only": "this"}}`).expect(200)
	if got := fmt.Sprint(e.do(http.MethodGet, path, "").expect(200).object()); got != "map[metadata:map[only:this]]" {
		t.Errorf("metadata %s", got)
	}

	e.do(http.MethodGet, path+"/nope", "").expectFault(404, "itemNotFound", "The resource could not be found.")
	e.do(http.MethodDelete, path+"/nope", "").expectFault(404, "itemNotFound", "Invalid metadata key")
	e.do(http.MethodGet, "/images/55555555-0000-0000-0000-000000000000/metadata", "").expectFault(404, "itemNotFound", "Image not found.")
	e.do(http.MethodPost, "/images/"+imageUID+"/metadata", `{"metadata": {"a": "1"}}`).
		expectFault(403, "forbidden", "Not authorized for image "+imageUID+".")
	e.as("demo", "2.39").do(http.MethodGet, path, "").expectFault(404, "itemNotFound", "The resource could not be found.")
	e.as("demo", "2.38").do(http.MethodGet, path, "").expect(200)
}
