package views

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

var created = time.Date(2026, 11, 22, 12, 36, 40, 0, time.UTC)

func testServer() *computev1.Server {
	srv := &computev1.Server{}
	srv.Name, srv.Namespace, srv.UID = "web", "demo", "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10"
	srv.CreationTimestamp = metav1.NewTime(created)
	srv.Spec.FlavorRef = "m1.small"
	srv.Status.Host = "host-1"
	srv.Status.Progress = 100
	srv.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.5", MACAddress: "fa:16:3e:00:00:01"}}
	return srv
}

// render is a server's view as a client decodes it.
func render(t *testing.T, in ServerInput) map[string]any {
	t.Helper()
	b, err := json.Marshal(NewServer(in))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func input(v int, shape ServerShape, admin bool) ServerInput {
	return ServerInput{
		Server: testServer(), Version: microversion.V2(v), Shape: shape, Admin: admin,
		State:       lifecycle.State{VM: lifecycle.VMActive, Power: lifecycle.PowerRunning},
		Image:       "",
		Flavor:      Ref{ID: "m1.small"},
		KeyName:     Null[string](),
		Description: Null[string](),
		DefaultAZ:   "nova",
		DiskConfig:  "MANUAL",
	}
}

// TestServerFieldsByMicroversion: each field appears from the microversion Nova shows it
// at, null where Nova shows null, and not at all before.
func TestServerFieldsByMicroversion(t *testing.T) {
	full := ServerShape{Full: true}
	tests := []struct {
		field   string
		from    int // first microversion it appears at
		shape   ServerShape
		admin   bool
		null    bool // shown as null
		missing bool // never shown in this shape
	}{
		{field: "OS-EXT-STS:task_state", from: 1, shape: full, null: true},
		{field: "key_name", from: 1, shape: full, null: true},
		{field: "OS-SRV-USG:terminated_at", from: 1, shape: full, null: true},
		{field: "os-extended-volumes:volumes_attached", from: 1, shape: full},
		{field: "security_groups", from: 1, shape: full},
		{field: "OS-EXT-SRV-ATTR:host", missing: true, shape: full},
		{field: "OS-EXT-SRV-ATTR:host", from: 1, shape: full, admin: true},
		{field: "OS-EXT-SRV-ATTR:hostname", from: 3, shape: full, admin: true},
		{field: "OS-EXT-SRV-ATTR:user_data", from: 3, shape: full, admin: true, null: true},
		{field: "OS-EXT-SRV-ATTR:user_data", missing: true, shape: ServerShape{Full: true, Rebuild: true}, admin: true},
		{field: "locked", from: 9, shape: full},
		{field: "host_status", from: 16, shape: full, admin: true},
		{field: "host_status", missing: true, shape: full},
		{field: "description", from: 19, shape: full, null: true},
		{field: "tags", from: 26, shape: full},
		{field: "trusted_image_certificates", from: 63, shape: full, null: true},
		{field: "server_groups", from: 71, shape: full},
		{field: "server_groups", missing: true, shape: ServerShape{Full: true, InList: true}},
		{field: "locked_reason", from: 73, shape: full, null: true},
		{field: "OS-EXT-STS:vm_state", missing: true, shape: ServerShape{}},
		{field: "key_name", from: 1, shape: ServerShape{KeyName: true}, null: true},
		{field: "user_data", from: 1, shape: ServerShape{UserData: true}, null: true},
		{field: "user_data", missing: true, shape: full},
	}
	for _, tt := range tests {
		for _, v := range []int{1, tt.from - 1, tt.from, 79} {
			if v < 1 {
				continue
			}
			got, present := render(t, input(v, tt.shape, tt.admin))[tt.field]
			want := !tt.missing && v >= tt.from
			switch {
			case present != want:
				t.Errorf("%s at 2.%d (%+v, admin %v): present %v", tt.field, v, tt.shape, tt.admin, present)
			case present && tt.null != (got == nil):
				t.Errorf("%s at 2.%d: %v, null wanted: %v", tt.field, v, got, tt.null)
			}
		}
	}
}

func TestServerFlavorAndFault(t *testing.T) {
	in := input(47, ServerShape{Full: true}, false)
	f := &computev1.Flavor{}
	f.Name = "m1.small"
	f.Spec.VCPUs, f.Spec.RAM = 1, 512
	in.Flavor = NewEmbeddedFlavor(f)
	flavor := render(t, in)["flavor"].(map[string]any)
	if flavor["original_name"] != "m1.small" || flavor["vcpus"] != 1.0 || flavor["extra_specs"] == nil || flavor["id"] != nil {
		t.Errorf("2.47 flavor: %v", flavor)
	}
	in.Flavor = NewEmbeddedFlavor(nil)
	if flavor := render(t, in)["flavor"].(map[string]any); len(flavor) != 0 {
		t.Errorf("a flavor that is gone: %v", flavor)
	}

	in.State = lifecycle.State{VM: lifecycle.VMError}
	in.Server.Status.Fault = &computev1.ServerFault{Code: 500, Message: "boom", Details: "trace", Created: metav1.NewTime(created)}
	fault := render(t, in)["fault"].(map[string]any)
	if fault["details"] != nil || fault["message"] != "boom" || fault["created"] != "2026-11-22T12:36:40Z" {
		t.Errorf("a 500's fault to a member: %v", fault)
	}
	in.Admin = true
	if fault := render(t, in)["fault"].(map[string]any); fault["details"] != "trace" {
		t.Errorf("a 500's fault to the admin: %v", fault)
	}
	if _, ok := render(t, in)["progress"]; ok {
		t.Error("progress shown in ERROR")
	}
}

func TestKeypairAndImage(t *testing.T) {
	kp := &computev1.Keypair{}
	kp.CreationTimestamp = metav1.NewTime(created)
	in := KeypairInput{Keypair: kp, Name: "k", PublicKey: "ssh-rsa AAA", Fingerprint: "fp", Type: "ssh", ID: 7}
	if got := asJSON(t, NewKeypair(in, microversion.V2(1))); got != `{"name":"k","public_key":"ssh-rsa AAA","fingerprint":"fp"}` {
		t.Errorf("2.1 list entry: %s", got)
	}
	in.Full = true
	want := `{"name":"k","public_key":"ssh-rsa AAA","fingerprint":"fp","type":"ssh","user_id":"",` +
		`"created_at":"2026-11-22T12:36:40.000000","deleted":false,"deleted_at":null,"updated_at":null,"id":7}`
	if got := asJSON(t, NewKeypair(in, microversion.V2(2))); got != want {
		t.Errorf("2.2 full:\n got %s\nwant %s", got, want)
	}

	img := &computev1.Image{}
	img.UID = "img-1"
	img.CreationTimestamp = metav1.NewTime(created)
	img.Spec.Metadata = map[string]string{"instance_uuid": "srv-1"}
	links := func(id string) []Link { return []Link{{Href: "/servers/" + id, Rel: "self"}} }
	want = `{"id":"img-1","name":"","minRam":0,"minDisk":0,"metadata":{"instance_uuid":"srv-1"},` +
		`"created":"2026-11-22T12:36:40Z","updated":"2026-11-22T12:36:40Z","status":"SAVING","progress":25,` +
		`"OS-EXT-IMG-SIZE:size":null,"links":null,"server":{"id":"srv-1","links":[{"rel":"self","href":"/servers/srv-1"}]},` +
		`"OS-DCF:diskConfig":"AUTO"}`
	if got := asJSON(t, NewImage(ImageInput{Image: img, ServerLinks: links, HasAuto: true, AutoDiskConfig: true})); got != want {
		t.Errorf("a queued snapshot:\n got %s\nwant %s", got, want)
	}
}
