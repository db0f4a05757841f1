package novaapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

func showServer(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	return e.do(http.MethodGet, "/servers/"+id, "").expect(200).object()["server"].(map[string]any)
}

func without(keys []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return slices.Contains(drop, k) })
}

func TestServerShowMatchesNova(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)

	t.Run("2.1 has the sample's keys", func(t *testing.T) {
		got := keysOf(showServer(t, e, srvUID))
		want := sampleKeys(t, "server_active.json", "server")
		if !slices.Equal(got, want) {
			t.Errorf("keys\n got  %v\n want %v", got, want)
		}
	})
	t.Run("latest has the sample's keys but 2.90's hostname", func(t *testing.T) {
		got := keysOf(showServer(t, e.as("demo", "latest"), srvUID))
		want := without(sampleKeys(t, "server_active_latest.json", "server"), "OS-EXT-SRV-ATTR:hostname")
		if !slices.Equal(got, want) {
			t.Errorf("keys\n got  %v\n want %v", got, want)
		}
	})
	t.Run("values", func(t *testing.T) {
		s := showServer(t, e, srvUID)
		want := map[string]any{
			"id": srvUID, "name": "peer-srv-a", "status": "ACTIVE", "tenant_id": "demo", "user_id": "demo",
			"OS-EXT-STS:task_state": nil, "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": float64(1),
			"OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": "nova", "key_name": "kp-demo",
			"created": "2026-11-22T12:36:40Z", "updated": "2026-11-22T12:36:41Z",
			"OS-SRV-USG:launched_at": "2026-11-22T12:36:41.000000", "OS-SRV-USG:terminated_at": nil,
			"config_drive": "", "accessIPv4": "", "accessIPv6": "", "progress": float64(0),
			"hostId": "69b4348c891bda9b1bd486d3b5c0613937a1bfd6871af8b5e58f2747",
		}
		for k, v := range want {
			if s[k] != v {
				t.Errorf("%s = %#v, want %#v", k, s[k], v)
			}
		}
		links := s["links"].([]any)
		if links[0].(map[string]any)["href"] != root+"/servers/"+srvUID || links[1].(map[string]any)["href"] != "http://127.0.0.1:8774/demo/servers/"+srvUID {
			t.Errorf("links %v", links)
		}
		img := s["image"].(map[string]any)
		if img["id"] != imageUID || img["links"].([]any)[0].(map[string]any)["href"] != "http://127.0.0.1:8774/demo/images/"+imageUID {
			t.Errorf("image %v", img)
		}
		fl := s["flavor"].(map[string]any)
		if fl["id"] != "1" {
			t.Errorf("flavor %v", fl)
		}
	})
	t.Run("2.47 embeds the flavor", func(t *testing.T) {
		fl := showServer(t, e.as("demo", "2.47"), srvUID)["flavor"].(map[string]any)
		want := map[string]any{"vcpus": float64(1), "ram": float64(512), "disk": float64(1), "ephemeral": float64(0),
			"swap": float64(0), "original_name": "m1.tiny", "extra_specs": map[string]any{}}
		if fmt.Sprint(fl) != fmt.Sprint(want) {
			t.Errorf("flavor %v, want %v", fl, want)
		}
	})
	t.Run("admins see the extended attributes", func(t *testing.T) {
		s := showServer(t, e.as("admin", "2.16"), srvUID)
		for _, k := range []string{"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hypervisor_hostname",
			"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:user_data", "host_status"} {
			if _, ok := s[k]; !ok {
				t.Errorf("admin view lacks %s", k)
			}
		}
		if s["host_status"] != "UP" || s["OS-EXT-SRV-ATTR:host"] != "host-a" {
			t.Errorf("host_status %v host %v", s["host_status"], s["OS-EXT-SRV-ATTR:host"])
		}
		s = showServer(t, e.as("admin", "2.1"), srvUID)
		if _, ok := s["OS-EXT-SRV-ATTR:hostname"]; ok {
			t.Error("hostname is a 2.3 attribute")
		}
		if _, ok := s["OS-EXT-SRV-ATTR:host"]; !ok {
			t.Error("host is shown to admins at 2.1")
		}
	})
}

// TestServerFieldGating checks each microversioned field is absent just below its
// microversion and present from it.
func TestServerFieldGating(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	fields := []struct {
		field string
		minor int
	}{
		{"locked", 9}, {"description", 19}, {"tags", 26}, {"trusted_image_certificates", 63},
		{"server_groups", 71}, {"locked_reason", 73},
	}
	for _, f := range fields {
		t.Run(f.field, func(t *testing.T) {
			below := showServer(t, e.as("demo", fmt.Sprintf("2.%d", f.minor-1)), srvUID)
			if _, ok := below[f.field]; ok {
				t.Errorf("%s present at 2.%d", f.field, f.minor-1)
			}
			at := showServer(t, e.as("demo", fmt.Sprintf("2.%d", f.minor)), srvUID)
			if _, ok := at[f.field]; !ok {
				t.Errorf("%s absent at 2.%d", f.field, f.minor)
			}
		})
	}
	t.Run("flavor reference becomes contents at 2.47", func(t *testing.T) {
		if _, ok := showServer(t, e.as("demo", "2.46"), srvUID)["flavor"].(map[string]any)["links"]; !ok {
			t.Error("2.46 flavor has no links")
		}
		if _, ok := showServer(t, e.as("demo", "2.47"), srvUID)["flavor"].(map[string]any)["links"]; ok {
			t.Error("2.47 flavor has links")
		}
	})
	t.Run("host_status is for admins only", func(t *testing.T) {
		if _, ok := showServer(t, e.as("demo", "2.16"), srvUID)["host_status"]; ok {
			t.Error("non-admin sees host_status")
		}
		if _, ok := showServer(t, e.as("admin", "2.15"), srvUID)["host_status"]; ok {
			t.Error("host_status before 2.16")
		}
	})
	t.Run("server_groups not in detail lists", func(t *testing.T) {
		list := e.as("demo", "2.71").do(http.MethodGet, "/servers/detail", "").expect(200).object()["servers"].([]any)
		if _, ok := list[0].(map[string]any)["server_groups"]; ok {
			t.Error("server_groups in /servers/detail")
		}
	})
}

func TestServerStates(t *testing.T) {
	building := server("srv-b", "00000000-0000-0000-0000-00000000000b", base)
	building.Status = computev1.ServerStatus{}
	building.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.3", Version: 4, Type: "fixed"}}
	paused := inState(server("srv-p", "00000000-0000-0000-0000-00000000000c", base), lifecycle.VMPaused, "", lifecycle.PowerPaused)
	failed := inState(server("srv-e", "00000000-0000-0000-0000-00000000000e", base), lifecycle.VMError, "", lifecycle.PowerNoState)
	failed.Status.Fault = &computev1.ServerFault{Code: 500, Message: "No valid host was found.", Details: "trace", Created: metav1.NewTime(base)}
	withNet := server("srv-n", "00000000-0000-0000-0000-00000000000d", base)
	withNet.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.4", Version: 4, MACAddress: "fa:16:3e:00:00:01", Type: "fixed"}}
	deleting := server("srv-d", "00000000-0000-0000-0000-0000000000dd", base)
	now := metav1.Now()
	deleting.DeletionTimestamp = &now
	deleting.Finalizers = []string{computev1.Finalizer}
	e := newEnv(t, standard(building, paused, failed, withNet, deleting)...)

	t.Run("a server the controller has not seen is BUILD/scheduling, addresses hidden", func(t *testing.T) {
		s := showServer(t, e, string(building.UID))
		if s["status"] != "BUILD" || s["OS-EXT-STS:task_state"] != "scheduling" || s["OS-EXT-STS:vm_state"] != "building" || s["OS-EXT-STS:power_state"] != float64(0) {
			t.Errorf("state %v %v %v %v", s["status"], s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"], s["OS-EXT-STS:power_state"])
		}
		if len(s["addresses"].(map[string]any)) != 0 || s["OS-SRV-USG:launched_at"] != nil {
			t.Errorf("addresses %v launched %v", s["addresses"], s["OS-SRV-USG:launched_at"])
		}
		if _, ok := s["progress"]; !ok {
			t.Error("BUILD shows progress")
		}
	})
	t.Run("PAUSED has no progress, as in the sample", func(t *testing.T) {
		s := showServer(t, e, string(paused.UID))
		if !slices.Equal(keysOf(s), sampleKeys(t, "server_paused.json", "server")) {
			t.Errorf("keys %v", keysOf(s))
		}
	})
	t.Run("ERROR shows the fault, details not for a 500 to non-admins", func(t *testing.T) {
		s := showServer(t, e, string(failed.UID))
		f := s["fault"].(map[string]any)
		if f["message"] != "No valid host was found." || f["code"] != float64(500) || f["created"] != "2026-11-22T12:36:40Z" {
			t.Errorf("fault %v", f)
		}
		if _, ok := f["details"]; ok {
			t.Error("details shown to a non-admin for a 500")
		}
		if _, ok := showServer(t, e.as("admin", ""), string(failed.UID))["fault"].(map[string]any)["details"]; !ok {
			t.Error("details hidden from an admin")
		}
		if _, ok := showServer(t, e, srvUIDOf(withNet))["fault"]; ok {
			t.Error("fault on an ACTIVE server")
		}
	})
	t.Run("addresses and security groups", func(t *testing.T) {
		s := showServer(t, e, srvUIDOf(withNet))
		addrs := s["addresses"].(map[string]any)["private"].([]any)[0].(map[string]any)
		want := map[string]any{"version": float64(4), "addr": "10.0.0.4", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}
		if fmt.Sprint(addrs) != fmt.Sprint(want) {
			t.Errorf("address %v", addrs)
		}
		if fmt.Sprint(s["security_groups"]) != "[map[name:default]]" {
			t.Errorf("security_groups %v", s["security_groups"])
		}
		ips := e.do(http.MethodGet, "/servers/"+srvUIDOf(withNet)+"/ips", "").expect(200).object()
		if fmt.Sprint(ips) != "map[addresses:map[private:[map[addr:10.0.0.4 version:4]]]]" {
			t.Errorf("ips %v", ips)
		}
		one := e.do(http.MethodGet, "/servers/"+srvUIDOf(withNet)+"/ips/private", "").expect(200).object()
		if fmt.Sprint(one) != "map[private:[map[addr:10.0.0.4 version:4]]]" {
			t.Errorf("ips/private %v", one)
		}
		e.do(http.MethodGet, "/servers/"+srvUIDOf(withNet)+"/ips/public", "").
			expectFault(404, "itemNotFound", "Instance is not a member of specified network")
	})
	t.Run("a server being deleted shows task_state deleting", func(t *testing.T) {
		s := showServer(t, e, string(deleting.UID))
		if s["status"] != "ACTIVE" || s["OS-EXT-STS:task_state"] != "deleting" {
			t.Errorf("status %v task %v", s["status"], s["OS-EXT-STS:task_state"])
		}
	})
}

func srvUIDOf(s *computev1.Server) string { return string(s.UID) }

func TestAnotherTenantsServerIsNotFound(t *testing.T) {
	other := server("srv-o", "0e0e0e0e-0000-0000-0000-000000000000", base)
	other.Namespace = "other"
	e := newEnv(t, standard(other)...)
	id := string(other.UID)
	msg := "Instance " + id + " could not be found."
	e.do(http.MethodGet, "/servers/"+id, "").expectFault(404, "itemNotFound", msg)
	e.do(http.MethodDelete, "/servers/"+id, "").expectFault(404, "itemNotFound", msg)
	e.do(http.MethodPost, "/servers/"+id+"/action", `{"os-stop": null}`).expectFault(404, "itemNotFound", msg)
	e.do(http.MethodGet, "/servers/"+id+"/metadata", "").expectFault(404, "itemNotFound", msg)
	list := e.do(http.MethodGet, "/servers", "").expect(200).object()["servers"].([]any)
	if len(list) != 0 {
		t.Errorf("listed %v", list)
	}
}

func TestServerListPagination(t *testing.T) {
	var objs []client.Object
	var ids []string
	for i := 0; i < 25; i++ {
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		objs = append(objs, server(fmt.Sprintf("srv-%02d", i), id, base.Add(time.Duration(i)*time.Minute)))
		ids = append(ids, id)
	}
	slices.Reverse(ids) // newest first, as Nova orders
	e := newEnv(t, standard(objs...)...)

	for _, path := range []string{"/servers", "/servers/detail"} {
		t.Run(path, func(t *testing.T) {
			var got []string
			next := path + "?limit=10"
			for page := 0; page < 5 && next != ""; page++ {
				m := e.do(http.MethodGet, next, "").expect(200).object()
				list := m["servers"].([]any)
				for _, s := range list {
					got = append(got, s.(map[string]any)["id"].(string))
				}
				links, _ := m["servers_links"].([]any)
				next = ""
				if page < 2 {
					if len(list) != 10 || len(links) != 1 {
						t.Fatalf("page %d: %d servers, links %v", page, len(list), links)
					}
					l := links[0].(map[string]any)
					if l["rel"] != "next" {
						t.Fatalf("link %v", l)
					}
					u, _ := url.Parse(l["href"].(string))
					if !strings.HasPrefix(l["href"].(string), root+path+"?") || u.Query().Get("limit") != "10" ||
						u.Query().Get("marker") != got[len(got)-1] {
						t.Fatalf("next link %v", l["href"])
					}
					next = strings.TrimPrefix(l["href"].(string), root)
				} else if len(list) != 5 || links != nil {
					t.Fatalf("last page: %d servers, links %v", len(list), links)
				}
			}
			if !slices.Equal(got, ids) {
				t.Errorf("order\n got  %v\n want %v", got, ids)
			}
		})
	}
	t.Run("unknown marker", func(t *testing.T) {
		e.do(http.MethodGet, "/servers?marker=nope", "").expectFault(400, "badRequest", "marker [nope] not found")
	})
	t.Run("bad limit", func(t *testing.T) {
		e.do(http.MethodGet, "/servers?limit=abc", "").expectFault(400, "badRequest",
			"Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'")
	})
	t.Run("sort ascending by name", func(t *testing.T) {
		list := e.do(http.MethodGet, "/servers?sort_key=display_name&sort_dir=asc&limit=2", "").expect(200).object()["servers"].([]any)
		if list[0].(map[string]any)["name"] != "peer-srv-00" || list[1].(map[string]any)["name"] != "peer-srv-01" {
			t.Errorf("sorted %v", list)
		}
	})
	t.Run("bad sort direction", func(t *testing.T) {
		e.do(http.MethodGet, "/servers?sort_dir=up", "").expectFault(400, "badRequest",
			"Invalid input received: Unknown sort direction, must be 'desc' or 'asc'")
	})
}

func TestServerListFilters(t *testing.T) {
	a := server("srv-a", "00000000-0000-0000-0000-00000000000a", base)
	a.Spec.Name = "web-1"
	a.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.3", Version: 4}}
	b := inState(server("srv-b", "00000000-0000-0000-0000-00000000000b", base.Add(time.Minute)), lifecycle.VMStopped, "", lifecycle.PowerShutdown)
	b.Spec.Name = "db-1"
	b.Status.Flavor, b.Spec.FlavorRef = "2", "2"
	b.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.13", Version: 4}}
	b.Spec.Locked, b.Status.Locked = true, true
	later := metav1.NewTime(base.Add(time.Hour))
	b.Status.Updated = &later
	c := server("srv-c", "00000000-0000-0000-0000-00000000000c", base.Add(2*time.Minute))
	c.Spec.Name = "web-2"
	c.Status.Image, c.Status.ImageUID = "other", "99999999-0000-0000-0000-000000000000"
	e := newEnv(t, standard(a, b, c)...)

	names := func(t *testing.T, e *env, query string) []string {
		t.Helper()
		var out []string
		for _, s := range e.do(http.MethodGet, "/servers?"+query, "").expect(200).object()["servers"].([]any) {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name, version, query string
		want                 []string
	}{
		{"name regex", "", "name=^web", []string{"web-1", "web-2"}},
		{"status", "", "status=SHUTOFF", []string{"db-1"}},
		{"status any case", "", "status=active", []string{"web-1", "web-2"}},
		{"two statuses", "", "status=ACTIVE&status=SHUTOFF", []string{"db-1", "web-1", "web-2"}},
		{"flavor", "", "flavor=2", []string{"db-1"}},
		{"unknown flavor", "", "flavor=nope", nil},
		{"image", "", "image=" + imageUID, []string{"db-1", "web-1"}},
		{"ip is a match from the start", "", "ip=10.0.0.1", []string{"db-1"}},
		{"ip exact", "", "ip=10.0.0.3$", []string{"web-1"}},
		{"changes-since", "", "changes-since=2026-11-22T13:00:00Z", []string{"db-1"}},
		{"locked from 2.73", "2.73", "locked=true", []string{"db-1"}},
		{"locked ignored before", "2.72", "locked=true", []string{"db-1", "web-1", "web-2"}},
		{"admin-only filters ignored for others", "", "vm_state=stopped", []string{"db-1", "web-1", "web-2"}},
		{"invalid status before 2.38 is empty", "2.37", "status=NOPE", nil},
		{"unknown param ignored before 2.75", "2.74", "foo=bar", []string{"db-1", "web-1", "web-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(t, e.as("demo", tt.version), tt.query); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("admin filters", func(t *testing.T) {
		if got := names(t, e.as("admin", ""), "vm_state=stopped"); !slices.Equal(got, []string{"db-1"}) {
			t.Errorf("got %v", got)
		}
	})
	errs := []struct {
		name, version, query, key, msg string
		code                           int
	}{
		{"bad changes-since", "", "changes-since=yesterday", "badRequest",
			"Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'", 400},
		{"invalid status from 2.38", "2.38", "status=NOPE", "badRequest", "Invalid status value", 400},
		{"unknown param from 2.75", "2.75", "foo=bar", "badRequest", "'foo' does not match any of the regexes: '^_'", 400},
		{"bad locked", "2.73", "locked=maybe", "badRequest",
			"Invalid input received: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", 400},
		{"all_tenants for a non-admin", "", "all_tenants=1", "forbidden",
			"Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.", 403},
		{"deleted for a non-admin", "", "status=DELETED", "forbidden", "Only administrators may list deleted instances", 403},
		{"bad sort key", "2.75", "sort_key=nope", "badRequest",
			"Invalid input for query parameters sort_key. Value: nope. 'nope' is not one of ['access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'created_at', 'display_description', 'display_name', 'host', 'hostname', 'image_ref', 'instance_type_id', 'kernel_id', 'key_name', 'launch_index', 'launched_at', 'locked_by', 'node', 'power_state', 'progress', 'project_id', 'ramdisk_id', 'root_device_name', 'task_state', 'terminated_at', 'updated_at', 'user_id', 'uuid', 'vm_state', 'locked']", 400},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.as("demo", tt.version).do(http.MethodGet, "/servers?"+tt.query, "").expectFault(tt.code, tt.key, tt.msg)
		})
	}
	t.Run("all_tenants for the cloud operator", func(t *testing.T) {
		other := server("srv-o", "0e0e0e0e-0000-0000-0000-000000000000", base)
		other.Namespace = "other"
		e := newEnv(t, standard(a, other)...)
		if got := names(t, e.as("admin", ""), "all_tenants=1"); len(got) != 2 {
			t.Errorf("got %v", got)
		}
		if got := names(t, e.as("admin", ""), "all_tenants=1&tenant_id=other"); !slices.Equal(got, []string{"peer-srv-o"}) {
			t.Errorf("got %v", got)
		}
	})
}

func TestServerCreate(t *testing.T) {
	e := newEnv(t, standard()...)
	body := `{"server": {"name": "peer-demo", "flavorRef": "1", "imageRef": "` + imageUID + `",
		"key_name": "kp-demo", "metadata": {"role": "demo"}, "networks": [{"uuid": "` + netUID + `"}]}}`

	r := e.as("demo", "2.37").do(http.MethodPost, "/servers", body).expect(202)
	s := r.object()["server"].(map[string]any)
	if got, want := keysOf(s), sampleKeys(t, "server_create.json", "server"); !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	id := s["id"].(string)
	if r.Header().Get("Location") != root+"/servers/"+id {
		t.Errorf("Location %q", r.Header().Get("Location"))
	}
	pw, _ := s["adminPass"].(string)
	if len(pw) != 12 {
		t.Errorf("adminPass %q", pw)
	}
	if fmt.Sprint(s["security_groups"]) != "[map[name:default]]" || s["OS-DCF:diskConfig"] != "MANUAL" {
		t.Errorf("server %v", s)
	}

	var list computev1.ServerList
	if err := e.c.List(context.Background(), &list, client.InNamespace(tenant)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d servers", len(list.Items))
	}
	srv := list.Items[0]
	if string(srv.UID) != id || !strings.HasPrefix(srv.Name, "srv-") {
		t.Errorf("server %s/%s", srv.Name, srv.UID)
	}
	want := computev1.ServerSpec{Name: "peer-demo", FlavorRef: "1", ImageRef: "cirros", KeyName: "kp-demo",
		Networks: []computev1.NetworkAttachment{{Name: "net1"}}, PowerState: computev1.PowerActive, Metadata: map[string]string{"role": "demo"},
		SecurityGroups: []string{"default"}}
	if fmt.Sprint(srv.Spec) != fmt.Sprint(want) {
		t.Errorf("spec\n got  %+v\n want %+v", srv.Spec, want)
	}
	if srv.Annotations[annUserID] != "demo" {
		t.Errorf("annotations %v", srv.Annotations)
	}
	raw, _ := json.Marshal(srv)
	if strings.Contains(string(raw), pw) {
		t.Error("the admin password is stored in the Server")
	}

	// The new server is there at once, even before the cache would have it.
	got := showServer(t, e, id)
	if got["status"] != "BUILD" || got["name"] != "peer-demo" {
		t.Errorf("show after create: %v %v", got["status"], got["name"])
	}
	acts := e.do(http.MethodGet, "/servers/"+id+"/os-instance-actions", "").expect(200).object()["instanceActions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["action"] != "create" || acts[0].(map[string]any)["request_id"] != r.Header().Get("X-Openstack-Request-Id") {
		t.Errorf("actions %v", acts)
	}
}

func TestServerCreateVariants(t *testing.T) {
	e := newEnv(t, standard()...)
	t.Run("flavor URL, admin password and description kept as given", func(t *testing.T) {
		r := e.as("demo", "2.19").do(http.MethodPost, "/servers", `{"server": {"name": "x", "flavorRef": "http://nova/v2.1/flavors/2",
			"imageRef": "`+imageUID+`", "adminPass": "s3cret", "description": "hello", "networks": [{"uuid": "`+netUID+`", "fixed_ip": "10.0.0.9"}]}}`).expect(202)
		s := r.object()["server"].(map[string]any)
		if s["adminPass"] != "s3cret" {
			t.Errorf("adminPass %v", s["adminPass"])
		}
		srv := findServer(t, e, s["id"].(string))
		if srv.Spec.FlavorRef != "2" || ptr.Deref(srv.Spec.Description, "") != "hello" || srv.Spec.Networks[0].FixedIP != "10.0.0.9" {
			t.Errorf("server %+v %v", srv.Spec, srv.Annotations)
		}
		if showServer(t, e.as("demo", "2.19"), s["id"].(string))["description"] != "hello" {
			t.Error("description not shown")
		}
	})
	t.Run("before 2.19 the description is the name", func(t *testing.T) {
		s := e.do(http.MethodPost, "/servers", `{"server": {"name": "named", "flavorRef": 1, "imageRef": "`+imageUID+`"}}`).expect(202).object()["server"].(map[string]any)
		if showServer(t, e.as("demo", "2.19"), s["id"].(string))["description"] != "named" {
			t.Error("description is not the name")
		}
	})
	t.Run("networks none, and auto with exactly one network", func(t *testing.T) {
		s := e.as("demo", "2.37").do(http.MethodPost, "/servers", `{"server": {"name": "n", "flavorRef": "1", "imageRef": "`+imageUID+`", "networks": "none"}}`).expect(202).object()["server"].(map[string]any)
		if n := findServer(t, e, s["id"].(string)).Spec.Networks; len(n) != 0 {
			t.Errorf("networks %v", n)
		}
		s = e.as("demo", "2.37").do(http.MethodPost, "/servers", `{"server": {"name": "a", "flavorRef": "1", "imageRef": "`+imageUID+`", "networks": "auto"}}`).expect(202).object()["server"].(map[string]any)
		if n := findServer(t, e, s["id"].(string)).Spec.Networks; len(n) != 1 || n[0].Name != "net1" {
			t.Errorf("networks %v", n)
		}
	})
	t.Run("max_count makes several, named as Nova names them", func(t *testing.T) {
		e := newEnv(t, standard()...)
		e.do(http.MethodPost, "/servers", `{"server": {"name": "multi", "flavorRef": "1", "imageRef": "`+imageUID+`", "max_count": 3}}`).expect(202)
		var list computev1.ServerList
		_ = e.c.List(context.Background(), &list)
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Spec.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"multi-1", "multi-2", "multi-3"}) {
			t.Errorf("names %v", names)
		}
	})
	t.Run("return_reservation_id", func(t *testing.T) {
		m := e.do(http.MethodPost, "/servers", `{"server": {"name": "r", "flavorRef": "1", "imageRef": "`+imageUID+`", "return_reservation_id": true}}`).expect(202).object()
		if id, _ := m["reservation_id"].(string); !strings.HasPrefix(id, "r-") || len(m) != 1 {
			t.Errorf("body %v", m)
		}
	})
}

func findServer(t *testing.T, e *env, id string) *computev1.Server {
	t.Helper()
	var list computev1.ServerList
	if err := e.c.List(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if string(list.Items[i].UID) == id {
			return &list.Items[i]
		}
	}
	t.Fatalf("no server %s", id)
	return nil
}

func TestServerCreateErrors(t *testing.T) {
	emptyNet := newEnv(t, devstackFlavors()...)
	_ = emptyNet.c.Create(context.Background(), cirros())
	notActive := cirros()
	notActive.Namespace, notActive.Name, notActive.UID = tenant, "queued", "11111111-0000-0000-0000-000000000000"
	notActive.Status.Status = computev1.ImageQueued
	big := cirros()
	big.Namespace, big.Name, big.UID = tenant, "big", "22222222-0000-0000-0000-000000000000"
	big.Spec.MinRAM = 1024
	e := newEnv(t, standard(notActive, big)...)
	img := `"imageRef": "` + imageUID + `"`
	tests := []struct {
		name, version, body, key, msg string
		code                          int
		env                           *env
	}{
		{"flavorRef required (sample)", "", `{"server": {"name": "x"}}`, "badRequest",
			"Invalid input for field/attribute server. Value: {'name': 'x'}. 'flavorRef' is a required property", 400, nil},
		{"name required", "", `{"server": {"flavorRef": "1"}}`, "badRequest",
			"Invalid input for field/attribute server. Value: {'flavorRef': '1'}. 'name' is a required property", 400, nil},
		{"server required", "", `{}`, "badRequest", "'server' is a required property", 400, nil},
		{"empty body", "", ``, "badRequest", "None is not of type 'object'", 400, nil},
		{"malformed (sample)", "", `{"server": {"name": "x",}}`, "badRequest", "Malformed request body", 400, nil},
		{"unknown field", "", `{"server": {"name": "x", "flavorRef": "1", "foo": true}}`, "badRequest",
			"Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'foo': True}. Additional properties are not allowed ('foo' was unexpected)", 400, nil},
		{"name with spaces around", "", `{"server": {"name": " x", "flavorRef": "1"}}`, "badRequest",
			"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.", 400, nil},
		{"name type", "", `{"server": {"name": 1, "flavorRef": "1"}}`, "badRequest",
			"Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'", 400, nil},
		{"imageRef not a uuid", "", `{"server": {"name": "x", "flavorRef": "1", "imageRef": "cirros"}}`, "badRequest",
			"Invalid input for field/attribute imageRef. Value: cirros. 'cirros' is not valid under any of the given schemas", 400, nil},
		{"bad metadata key", "", `{"server": {"name": "x", "flavorRef": "1", "metadata": {"a/b": "c"}}}`, "badRequest",
			"Invalid input for field/attribute metadata. Value: {'a/b': 'c'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'", 400, nil},
		{"networks required from 2.37", "2.37", `{"server": {"name": "x", "flavorRef": "1", ` + img + `}}`, "badRequest",
			"Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'imageRef': '" + imageUID + "'}. 'networks' is a required property", 400, nil},
		{"networks word", "2.37", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "networks": "all"}}`, "badRequest",
			"Invalid input for field/attribute networks. Value: all. 'all' is not valid under any of the given schemas", 400, nil},
		{"unknown flavor (sample)", "", `{"server": {"name": "x", "flavorRef": "nope", ` + img + `}}`, "badRequest",
			"Flavor nope could not be found.", 400, nil},
		{"missing image", "", `{"server": {"name": "x", "flavorRef": "1"}}`, "badRequest", "Missing imageRef attribute", 400, nil},
		{"unknown image", "", `{"server": {"name": "x", "flavorRef": "1", "imageRef": "33333333-0000-0000-0000-000000000000"}}`, "badRequest",
			"Can not find requested image", 400, nil},
		{"image not active", "", `{"server": {"name": "x", "flavorRef": "1", "imageRef": "` + string(notActive.UID) + `"}}`, "badRequest",
			"Image " + string(notActive.UID) + " is not active.", 400, nil},
		{"flavor too small", "", `{"server": {"name": "x", "flavorRef": "42", "imageRef": "` + string(big.UID) + `"}}`, "badRequest",
			"Flavor's memory is too small for requested image.", 400, nil},
		{"unknown network (sample)", "2.37", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "networks": [{"uuid": "33333333-0000-0000-0000-000000000000"}]}}`, "badRequest",
			"Network 33333333-0000-0000-0000-000000000000 could not be found.", 400, nil},
		{"network uuid format before 2.37", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "networks": [{"uuid": "net1"}]}}`, "badRequest",
			"Bad networks format: network uuid is not in proper format (net1)", 400, nil},
		{"auto without networks (sample)", "2.37", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "networks": "auto"}}`, "badRequest",
			"Unable to automatically allocate a network for project demo", 400, emptyNet},
		{"unknown keypair", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "key_name": "nope"}}`, "badRequest",
			"Invalid key_name provided.", 400, nil},
		{"unknown security group", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "security_groups": [{"name": "web"}]}}`, "badRequest",
			"Security group web not found.", 400, nil},
		{"min above max", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "min_count": 3, "max_count": 2}}`, "badRequest",
			"min_count must be <= max_count", 400, nil},
		{"too much metadata", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "metadata": ` + manyMeta(129) + `}}`, "forbidden",
			"Maximum number of metadata items exceeds 128", 403, nil},
		{"block devices are not there yet", "", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "block_device_mapping_v2": [{"boot_index": 0}]}}`, "notImplemented",
			"Booting with block device mappings is not implemented yet in Kova.", 501, nil},
		{"requested host, non-admin", "2.74", `{"server": {"name": "x", "flavorRef": "1", ` + img + `, "networks": "none", "host": "h1"}}`, "forbidden",
			"Policy doesn't allow compute:servers:create:requested_destination to be performed.", 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := e
			if tt.env != nil {
				env = tt.env
			}
			env.as("demo", tt.version).do(http.MethodPost, "/servers", tt.body).expectFault(tt.code, tt.key, tt.msg)
		})
	}
	var list computev1.ServerList
	_ = e.c.List(context.Background(), &list)
	if len(list.Items) != 0 {
		t.Errorf("a refused create left %d servers", len(list.Items))
	}
}

func manyMeta(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, fmt.Sprintf(`"k%d": "v"`, i))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestServerUpdate(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	r := e.as("demo", "2.19").do(http.MethodPut, "/servers/"+srvUID, `{"server": {"name": "renamed", "description": "d", "accessIPv4": "1.2.3.4"}}`).expect(200)
	s := r.object()["server"].(map[string]any)
	if s["name"] != "renamed" || s["description"] != "d" || s["accessIPv4"] != "1.2.3.4" {
		t.Errorf("answer %v", s)
	}
	if _, ok := s["OS-EXT-STS:vm_state"]; ok {
		t.Error("update before 2.75 shows the full view")
	}
	srv := e.getServer("srv-a")
	if srv.Spec.Name != "renamed" || ptr.Deref(srv.Spec.Description, "") != "d" || srv.Spec.AccessIPv4 != "1.2.3.4" {
		t.Errorf("server %+v", srv)
	}
	full := e.as("demo", "2.75").do(http.MethodPut, "/servers/"+srvUID, `{"server": {"description": null}}`).expect(200).object()["server"].(map[string]any)
	if _, ok := full["OS-EXT-STS:vm_state"]; !ok || full["description"] != nil {
		t.Errorf("2.75 answer %v", full)
	}
	e.do(http.MethodPut, "/servers/"+srvUID, `{"server": {"description": "d"}}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute server. Value: {'description': 'd'}. Additional properties are not allowed ('description' was unexpected)")
	e.do(http.MethodPut, "/servers/"+srvUID, `{"server": {"accessIPv4": "nope"}}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute accessIPv4. Value: nope. 'nope' is not a 'ipv4'")
}

func TestServerDelete(t *testing.T) {
	locked := server("srv-l", "00000000-0000-0000-0000-0000000000ff", base)
	locked.Spec.Locked, locked.Status.Locked = true, true
	e := newEnv(t, standard(server("srv-a", srvUID, base), locked)...)

	e.do(http.MethodDelete, "/servers/"+srvUID, "").expect(204)
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: "srv-a"}, &computev1.Server{}); err == nil {
		t.Error("server still there")
	}
	e.do(http.MethodDelete, "/servers/"+string(locked.UID), "").expectFault(409, "conflictingRequest", "Instance "+string(locked.UID)+" is locked")
	e.as("admin", "").do(http.MethodDelete, "/servers/"+string(locked.UID), "").expect(204)
}

// TestCacheLag: the cache lags writes, and reads do not: what this API just created is
// found, and so is what was made elsewhere (consistency.go).
func TestCacheLag(t *testing.T) {
	e := newEnv(t, standard()...)
	stale := newEnv(t, standard()...) // a cache that will never see the new objects
	h := New(Config{Client: e.c, Cache: stale.c, ServerUIDs: listedUIDs{stale.c}, Admins: e.admins, PublicNamespace: public})
	lagging := *e
	lagging.h = h

	s := lagging.do(http.MethodPost, "/servers", `{"server": {"name": "fresh", "flavorRef": "1", "imageRef": "`+imageUID+`"}}`).expect(202).object()["server"].(map[string]any)
	id := s["id"].(string)
	if got := showServer(t, &lagging, id); got["name"] != "fresh" {
		t.Errorf("show %v", got["name"])
	}
	lagging.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "k1", "public_key": "`+testPublicKey+`"}}`).expect(200)
	lagging.do(http.MethodGet, "/os-keypairs/k1", "").expect(200)

	// Something made elsewhere (through another replica) is seen at once too.
	other := server("srv-x", "0f0f0f0f-0000-0000-0000-000000000000", base)
	if err := e.c.Create(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	showServer(t, &lagging, string(other.UID))
}

// Nova keeps an access address in its canonical text (its IPAddress column), which
// Tempest's test_verify_server_details compares with netaddr's.
func TestAccessIPsAreCanonical(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	long := "0000:0000:0000:0000:0000:babe:220.12.22.2"
	s := e.do(http.MethodPost, "/servers", `{"server": {"name": "x", "flavorRef": "1", "imageRef": "`+imageUID+`",
		"networks": [{"uuid": "`+netUID+`"}], "accessIPv4": "1.1.1.1", "accessIPv6": "`+long+`"}}`).expect(202).object()["server"].(map[string]any)
	got := showServer(t, e, s["id"].(string))
	if got["accessIPv6"] != "::babe:dc0c:1602" || got["accessIPv4"] != "1.1.1.1" {
		t.Errorf("created with %v %v", got["accessIPv4"], got["accessIPv6"])
	}
	e.do(http.MethodPut, "/servers/"+srvUID, `{"server": {"accessIPv6": "2001:DB8:0:0:0:0:0:1"}}`).expect(200)
	if srv := e.getServer("srv-a"); srv.Spec.AccessIPv6 != "2001:db8::1" {
		t.Errorf("updated to %q", srv.Spec.AccessIPv6)
	}
}
