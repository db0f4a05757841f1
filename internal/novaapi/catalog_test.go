package novaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// sampleBody reads a nova-peer sample with its compute root replaced by ours.
func sampleBody(t *testing.T, file string) any {
	t.Helper()
	b, err := os.ReadFile("/work/shared/nova-peer/samples/" + file)
	if err != nil {
		t.Skipf("sample %s not available: %v", file, err)
	}
	b = bytes.ReplaceAll(b, []byte("http://127.0.0.1:8774/v2.1/"), []byte("\x00"))
	b = bytes.ReplaceAll(b, []byte("http://127.0.0.1:8774/"), []byte("http://127.0.0.1:8774/demo/"))
	b = bytes.ReplaceAll(b, []byte("\x00"), []byte(root+"/"))
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFlavorsMatchNova(t *testing.T) {
	e := newEnv(t, standard()...)
	for _, tt := range []struct{ path, sample string }{
		{"/flavors", "flavors.json"},
		{"/flavors/detail", "flavors_detail.json"},
		{"/flavors/1", "flavor_1.json"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			var got any
			if err := json.Unmarshal(e.do(http.MethodGet, tt.path, "").expect(200).Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if want := sampleBody(t, tt.sample); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("body\n got  %v\n want %v", got, want)
			}
		})
	}
	t.Run("rxtx_factor is written as a float", func(t *testing.T) {
		if body := e.do(http.MethodGet, "/flavors/1", "").Body.String(); !strings.Contains(body, `"rxtx_factor": 1.0`) {
			t.Errorf("body %s", body)
		}
	})
	t.Run("microversioned fields", func(t *testing.T) {
		f := e.as("demo", "2.61").do(http.MethodGet, "/flavors/1", "").expect(200).object()["flavor"].(map[string]any)
		if f["description"] != nil || f["extra_specs"] == nil || f["swap"] != "" {
			t.Errorf("2.61 flavor %v", f)
		}
		if _, ok := f["description"]; !ok {
			t.Error("no description at 2.61")
		}
		f = e.as("demo", "2.75").do(http.MethodGet, "/flavors/1", "").expect(200).object()["flavor"].(map[string]any)
		if f["swap"] != float64(0) {
			t.Errorf("2.75 swap %v", f["swap"])
		}
	})
	t.Run("filters, pagination, errors", func(t *testing.T) {
		m := e.do(http.MethodGet, "/flavors?minRam=4096", "").expect(200).object()
		if len(m["flavors"].([]any)) != 3 {
			t.Errorf("minRam %v", m)
		}
		m = e.do(http.MethodGet, "/flavors?limit=2&marker=2", "").expect(200).object()
		var ids []string
		for _, f := range m["flavors"].([]any) {
			ids = append(ids, f.(map[string]any)["id"].(string))
		}
		if !slices.Equal(ids, []string{"3", "4"}) || m["flavors_links"] == nil {
			t.Errorf("page %v", m)
		}
		e.do(http.MethodGet, "/flavors/nope", "").expectFault(404, "itemNotFound", "Flavor nope could not be found.")
		e.do(http.MethodGet, "/flavors?minRam=lots", "").expectFault(400, "badRequest", "Invalid minRam filter [lots]")
		e.do(http.MethodGet, "/flavors?marker=nope", "").expectFault(400, "badRequest", "marker [nope] not found")
		// Kova has no flavor-manage API: no route, so webob's 404 page (Nova's is admin-only).
		if r := e.do(http.MethodPost, "/flavors", `{"flavor": {}}`); r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), "The resource could not be found.") {
			t.Errorf("POST /flavors: %d %s", r.Code, r.Body.String())
		}
	})
	t.Run("private flavors are for admins", func(t *testing.T) {
		p := flavor("p1", "private.one", 1, 64, 1)
		p.Spec.IsPublic = false
		e := newEnv(t, append(standard(), p)...)
		e.do(http.MethodGet, "/flavors/p1", "").expectFault(404, "itemNotFound", "Flavor p1 could not be found.")
		e.as("admin", "").do(http.MethodGet, "/flavors/p1", "").expect(200)
		if n := len(e.as("admin", "").do(http.MethodGet, "/flavors?is_public=none", "").expect(200).object()["flavors"].([]any)); n != 8 {
			t.Errorf("admin sees %d flavors", n)
		}
	})
}

func TestImages(t *testing.T) {
	own := cirros()
	own.Namespace, own.Name, own.UID = tenant, "own", "44444444-0000-0000-0000-000000000000"
	own.Spec.Visibility, own.Spec.Name = "private", "mine"
	own.CreationTimestamp = metav1.NewTime(base.Add(time.Hour))
	otherTenant := cirros()
	otherTenant.Namespace, otherTenant.Name, otherTenant.UID = "other", "theirs", "55555555-0000-0000-0000-000000000000"
	privatePublicNS := cirros()
	privatePublicNS.Name, privatePublicNS.UID, privatePublicNS.Spec.Visibility = "hidden", "66666666-0000-0000-0000-000000000000", "private"
	e := newEnv(t, standard(own, otherTenant, privatePublicNS)...)

	t.Run("show matches the sample", func(t *testing.T) {
		got := e.do(http.MethodGet, "/images/"+imageUID, "").expect(200).object()["image"].(map[string]any)
		want := sampleBody(t, "image.json").(map[string]any)["image"].(map[string]any)
		// Nova's third link is the image in Glance; Kova is its own image service, so the
		// alternate (same rel and type) is the image at the version-less compute root.
		links := want["links"].([]any)
		if alt := links[2].(map[string]any); alt["rel"] != "alternate" || alt["type"] != "application/vnd.openstack.image" {
			t.Fatalf("sample's third link %v", alt)
		}
		links[2].(map[string]any)["href"] = "http://127.0.0.1:8774/demo/images/" + imageUID
		for _, i := range e.do(http.MethodGet, "/images", "").expect(200).object()["images"].([]any) {
			if got := i.(map[string]any)["links"]; len(got.([]any)) != 3 || fmt.Sprint(got.([]any)[2]) != fmt.Sprint(map[string]any{
				"rel": "alternate", "type": "application/vnd.openstack.image", "href": "http://127.0.0.1:8774/demo/images/" + i.(map[string]any)["id"].(string)}) {
				t.Errorf("list links %v", got)
			}
		}
		want["created"], want["updated"] = "2026-11-22T12:36:39Z", "2026-11-22T12:36:39Z"
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("image\n got  %v\n want %v", got, want)
		}
	})
	t.Run("lists are the tenant's and the public ones, newest first", func(t *testing.T) {
		var ids []string
		for _, i := range e.do(http.MethodGet, "/images", "").expect(200).object()["images"].([]any) {
			ids = append(ids, i.(map[string]any)["id"].(string))
		}
		if !slices.Equal(ids, []string{string(own.UID), imageUID}) {
			t.Errorf("ids %v", ids)
		}
		m := e.do(http.MethodGet, "/images/detail?name=mine", "").expect(200).object()["images"].([]any)
		if len(m) != 1 || m[0].(map[string]any)["name"] != "mine" {
			t.Errorf("filtered %v", m)
		}
	})
	t.Run("another tenant's image is not found", func(t *testing.T) {
		e.do(http.MethodGet, "/images/"+string(otherTenant.UID), "").expectFault(404, "itemNotFound", "Image not found.")
		e.do(http.MethodGet, "/images/"+string(privatePublicNS.UID), "").expectFault(404, "itemNotFound", "Image not found.")
	})
	t.Run("delete", func(t *testing.T) {
		e.do(http.MethodDelete, "/images/"+imageUID, "").expectFault(403, "forbidden", "You are not allowed to delete the image.")
		e.do(http.MethodDelete, "/images/"+string(own.UID), "").expect(204)
		if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: "own"}, &computev1.Image{}); err == nil {
			t.Error("image still there")
		}
	})
	t.Run("the image proxy ends at 2.35", func(t *testing.T) {
		e.as("demo", "2.35").do(http.MethodGet, "/images/"+imageUID, "").expect(200)
		e.as("demo", "2.36").do(http.MethodGet, "/images/"+imageUID, "").expectFault(404, "itemNotFound", "The resource could not be found.")
		e.as("demo", "2.36").do(http.MethodGet, "/images", "").expectFault(404, "itemNotFound", "The resource could not be found.")
	})
}

func TestLimits(t *testing.T) {
	a := server("srv-a", "00000000-0000-0000-0000-00000000000a", base)
	b := server("srv-b", "00000000-0000-0000-0000-00000000000b", base)
	b.Status.Flavor = "3"
	e := newEnv(t, standard(a, b)...)

	abs := e.do(http.MethodGet, "/limits", "").expect(200).object()["limits"].(map[string]any)["absolute"].(map[string]any)
	if got, want := keysOf(abs), sampleKeys(t, "limits.json", "limits", "absolute"); !slices.Equal(got, want) {
		t.Errorf("keys\n got  %v\n want %v", got, want)
	}
	if abs["totalInstancesUsed"] != float64(2) || abs["totalCoresUsed"] != float64(3) || abs["totalRAMUsed"] != float64(512+4096) {
		t.Errorf("usage %v", abs)
	}
	latest := e.as("demo", "latest").do(http.MethodGet, "/limits", "").expect(200).object()["limits"].(map[string]any)["absolute"].(map[string]any)
	if got, want := keysOf(latest), sampleKeys(t, "limits_latest.json", "limits", "absolute"); !slices.Equal(got, want) {
		t.Errorf("latest keys\n got  %v\n want %v", got, want)
	}
	e.do(http.MethodGet, "/limits?tenant_id=other", "").expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:limits:other_project to be performed.")
	e.as("demo", "2.75").do(http.MethodGet, "/limits?x=1", "").expectFault(400, "badRequest", "Additional properties are not allowed ('x' was unexpected)")
}

func TestNetworksAndUnimplemented(t *testing.T) {
	shared := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: "public", UID: "77777777-0000-0000-0000-000000000000"},
		Spec: computev1.NetworkSpec{CIDR: "192.168.0.0/24", Shared: true}}
	e := newEnv(t, standard(shared, server("srv-a", srvUID, base))...)

	m := e.do(http.MethodGet, "/os-networksv2", "").expect(200).object()
	if fmt.Sprint(m) != "map[networks:[map[cidr:10.0.0.0/24 id:"+netUID+" label:private] map[cidr:192.168.0.0/24 id:77777777-0000-0000-0000-000000000000 label:public]]]" {
		t.Errorf("networks %v", m)
	}
	one := e.do(http.MethodGet, "/os-networksv2/"+netUID, "").expect(200).object()
	if fmt.Sprint(one) != "map[network:map[cidr:10.0.0.0/24 id:"+netUID+" label:private]]" {
		t.Errorf("network %v", one)
	}
	e.do(http.MethodGet, "/os-networksv2/nope", "").expectFault(404, "itemNotFound", "Network could not be found.")

	e.do(http.MethodGet, "/servers/nope/os-volume_attachments", "").expectFault(404, "itemNotFound", "Instance nope could not be found.")
}

func TestInstanceActions(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID
	// The controller carries each action out; the server is stopped after the stop.
	done := func(action computev1.ActionType, at time.Time) {
		t.Helper()
		for _, sa := range e.serverActions() {
			if sa.Spec.Action == action {
				start := metav1.NewTime(at)
				sa.Status = computev1.ServerActionStatus{Phase: computev1.ActionSucceeded, StartTime: &start, CompletionTime: &start}
				if err := e.c.Status().Update(context.Background(), &sa); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e.do(http.MethodPost, path+"/action", `{"os-stop": null}`).expect(202)
	done(computev1.ActionStop, time.Now().Add(30*time.Second))
	srv := e.getServer("srv-a")
	srv.Status.VMState, srv.Status.PowerState = string(lifecycle.VMStopped), int32(lifecycle.PowerShutdown)
	if err := e.c.Status().Update(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	rebootID := e.do(http.MethodPost, path+"/action", `{"reboot": {"type": "HARD"}}`).expect(202).Header().Get("X-Openstack-Request-Id")
	done(computev1.ActionReboot, time.Now().Add(time.Minute))

	list := e.do(http.MethodGet, path+"/os-instance-actions", "").expect(200).object()["instanceActions"].([]any)
	if len(list) != 3 {
		t.Fatalf("actions %v", list)
	}
	if oldest := list[2].(map[string]any); oldest["action"] != "create" || oldest["user_id"] != srv.Annotations[annUserID] ||
		oldest["request_id"] != "req-"+srvUID {
		t.Errorf("oldest %v", oldest)
	}
	first := list[0].(map[string]any)
	if got, want := keysOf(first), sampleKeys(t, "instance_actions.json"); len(want) == 0 || !slices.Equal(got, []string{"action", "instance_uuid", "message", "project_id", "request_id", "start_time", "user_id"}) {
		t.Errorf("keys %v", got)
	}
	if first["action"] != "reboot" || first["request_id"] != rebootID || first["user_id"] != "demo" || first["project_id"] != "demo" ||
		first["instance_uuid"] != srvUID || first["message"] != nil {
		t.Errorf("newest %v", first)
	}
	if list[1].(map[string]any)["action"] != "stop" {
		t.Errorf("older %v", list[1])
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000", first["start_time"].(string)); err != nil { // Nova's naive datetime
		t.Errorf("start_time %v", first["start_time"])
	}

	one := e.as("demo", "2.51").do(http.MethodGet, path+"/os-instance-actions/"+rebootID, "").expect(200).object()["instanceAction"].(map[string]any)
	events := one["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["event"] != "compute_reboot_instance" || events[0].(map[string]any)["result"] != "Success" {
		t.Errorf("events %v", events)
	}
	if _, ok := e.do(http.MethodGet, path+"/os-instance-actions/"+rebootID, "").expect(200).object()["instanceAction"].(map[string]any)["events"]; ok {
		t.Error("events before 2.51 for a non-admin")
	}
	e.do(http.MethodGet, path+"/os-instance-actions/req-nope", "").expectFault(404, "itemNotFound", "Action req-nope not found")

	paged := e.as("demo", "2.58").do(http.MethodGet, path+"/os-instance-actions?limit=1", "").expect(200).object()
	if len(paged["instanceActions"].([]any)) != 1 || paged["links"] == nil {
		t.Errorf("page %v", paged)
	}
	if _, ok := paged["instanceActions"].([]any)[0].(map[string]any)["updated_at"]; !ok {
		t.Error("no updated_at at 2.58")
	}
	e.as("demo", "2.58").do(http.MethodGet, path+"/os-instance-actions?marker=req-nope", "").expectFault(400, "badRequest", "Marker req-nope could not be found.")
	e.as("demo", "2.58").do(http.MethodGet, path+"/os-instance-actions?foo=1", "").expectFault(400, "badRequest", "Additional properties are not allowed ('foo' was unexpected)")
}

func TestImageFilters(t *testing.T) {
	snap := cirros()
	snap.Namespace, snap.Name, snap.UID = tenant, "snap", "88888888-0000-0000-0000-000000000000"
	snap.Spec.Visibility, snap.Spec.Name, snap.Spec.MinDisk = "private", "snap", 5
	snap.Spec.Metadata = map[string]string{"image_type": "snapshot", "instance_uuid": srvUID, "os_distro": "cirros"}
	snap.Status = computev1.ImageStatus{Status: computev1.ImageSaving}
	e := newEnv(t, standard(snap)...)
	tests := map[string][]string{
		"status=SAVING":                         {"snap"},
		"status=active":                         {"cirros-0.6.2-x86_64-disk"},
		"type=snapshot":                         {"snap"},
		"server=" + root + "/servers/" + srvUID: {"snap"},
		"minDisk=1":                             {"snap"},
		"property-os_distro=cirros":             {"snap"},
		"changes-since=2030-01-01T00:00:00Z":    nil,
	}
	for q, want := range tests {
		var got []string
		for _, i := range e.do(http.MethodGet, "/images/detail?"+q, "").expect(200).object()["images"].([]any) {
			got = append(got, i.(map[string]any)["name"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}
	e.do(http.MethodGet, "/images?minRam=x", "").expectFault(400, "badRequest", "Invalid input received: minRam must be an integer")
}

func TestInstanceActionsWindow(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID + "/os-instance-actions"
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"lock": null}`).expect(202)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if n := len(e.as("demo", "2.66").do(http.MethodGet, path+"?changes-since="+future, "").expect(200).object()["instanceActions"].([]any)); n != 0 {
		t.Errorf("%d actions after %s", n, future)
	}
	if n := len(e.as("demo", "2.66").do(http.MethodGet, path+"?changes-before="+future, "").expect(200).object()["instanceActions"].([]any)); n != 2 {
		t.Errorf("%d actions before %s", n, future)
	}
	e.as("demo", "2.66").do(http.MethodGet, path+"?changes-since="+future+"&changes-before=2020-01-01T00:00:00Z", "").
		expectFault(400, "badRequest", "The value of changes-since must be less than or equal to changes-before.")
	e.as("demo", "2.65").do(http.MethodGet, path+"?changes-before="+future, "").
		expectFault(400, "badRequest", "Additional properties are not allowed ('changes-before' was unexpected)")
}
