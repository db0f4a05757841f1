package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// onNet1 is a server with an interface on net1 (private), as the controller leaves it.
func onNet1(srv *computev1.Server) *computev1.Server {
	srv.Spec.Networks = []computev1.NetworkAttachment{{Name: "net1"}}
	srv.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.5", Version: 4, Type: "fixed",
		MACAddress: rules.MAC(string(srv.UID), "net1"), NetworkNamespace: tenant, NetworkName: "net1"}}
	return srv
}

var net1VIF = rules.InterfaceID(srvUID, tenant, "net1")

// backend plays the controller: once spec is as want says (seen through a watch), it
// writes status with set.
func (e *env) backend(name string, want func(*computev1.Server) bool, set func(*computev1.Server)) {
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	w, err := e.c.Watch(ctx, &computev1.ServerList{}, client.InNamespace(tenant))
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			srv, ok := ev.Object.(*computev1.Server)
			if !ok || srv.Name != name || !want(srv) {
				continue
			}
			set(srv)
			srv.Status.ObservedGeneration = srv.Generation
			if err := e.c.Status().Update(ctx, srv); err == nil {
				return
			}
		}
	}()
}

func hasNetwork(name string) func(*computev1.Server) bool {
	return func(s *computev1.Server) bool {
		for _, n := range s.Spec.Networks {
			if n.Name == name {
				return true
			}
		}
		return false
	}
}

func TestVirtualInterfacesList(t *testing.T) {
	e := newEnv(t, standard(onNet1(server("srv-a", srvUID, base)))...)
	m := e.do(http.MethodGet, "/servers/"+srvUID+"/os-virtual-interfacesv2", "").expect(200).object()
	want := fmt.Sprintf("map[virtual_interfaces:[map[id:%s ip_addresses:[map[address:10.0.0.5 network_id:%s network_label:private]] mac_address:%s]]]",
		net1VIF, netUID, rules.MAC(srvUID, "net1"))
	if fmt.Sprint(m) != want {
		t.Errorf("list\n got %v\nwant %s", m, want)
	}
	e.do(http.MethodGet, "/servers/nope/os-virtual-interfacesv2", "").expectFault(404, "itemNotFound", "Instance nope could not be found.")
}

func TestVirtualInterfaceCreate(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e.backend("srv-a", hasNetwork("net1"), func(s *computev1.Server) { s.Status.Addresses = onNet1(s.DeepCopy()).Status.Addresses })
	m := e.do(http.MethodPost, "/servers/"+srvUID+"/os-virtual-interfacesv2",
		`{"virtual_interface": {"network_id": "`+netUID+`"}}`).expect(200).object()
	want := fmt.Sprintf("map[virtual_interfaces:[map[id:%s ip_addresses:[map[address:10.0.0.5 network_id:%s network_label:private]] mac_address:%s]]]",
		net1VIF, netUID, rules.MAC(srvUID, "net1"))
	if fmt.Sprint(m) != want {
		t.Errorf("create\n got %v\nwant %s", m, want)
	}
	if got := e.getServer("srv-a").Spec.Networks; len(got) != 1 || got[0].Name != "net1" {
		t.Errorf("spec.networks %v", got)
	}
	e.do(http.MethodPost, "/servers/"+srvUID+"/os-virtual-interfacesv2", `{"virtual_interface": {"network_id": "`+netUID+`"}}`).
		expectFault(400, "badRequest", "Server "+srvUID+" already has a virtual interface on network "+netUID+".")
}

func TestVirtualInterfaceCreateFailureTakesSpecBack(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e.backend("srv-a", hasNetwork("net1"), func(s *computev1.Server) {
		s.Status.DeviceFailure = &computev1.ServerDeviceFailure{Action: string(lifecycle.ActionAttachInterface), Device: "net1",
			Reason: "NoMoreFixedIps", Message: "No fixed IP addresses available for network: " + netUID, Generation: s.Generation}
	})
	e.do(http.MethodPost, "/servers/"+srvUID+"/os-virtual-interfacesv2", `{"virtual_interface": {"network_id": "`+netUID+`"}}`).
		expectFault(400, "badRequest", "No fixed IP addresses available for network: "+netUID)
	if got := e.getServer("srv-a").Spec.Networks; len(got) != 0 {
		t.Errorf("a failed attach left spec.networks %v", got)
	}
}

func TestVirtualInterfaceRefusals(t *testing.T) {
	shelved := inState(server("srv-s", "5d1d2a3c-0b5e-4f3e-9a55-0d1c2b3a4f5e", base), lifecycle.VMShelvedOffloaded, lifecycle.TaskNone, lifecycle.PowerShutdown)
	locked := server("srv-l", "6e2e3b4d-1c6f-4a4f-8b66-1e2d3c4b5a6f", base)
	locked.Status.Locked = true
	e := newEnv(t, standard(server("srv-a", srvUID, base), shelved, locked)...)
	body := `{"virtual_interface": {"network_id": "` + netUID + `"}}`
	path := "/servers/" + srvUID + "/os-virtual-interfacesv2"
	e.do(http.MethodPost, path, `{"virtual_interface": {}}`).
		expectFault(400, "badRequest", "Invalid input for field/attribute virtual_interface. Value: {}. 'network_id' is a required property")
	e.do(http.MethodPost, path, `{"virtual_interface": {"network_id": "00000000-0000-4000-8000-00000000000f"}}`).
		expectFault(404, "itemNotFound", "Network 00000000-0000-4000-8000-00000000000f could not be found.")
	e.do(http.MethodPost, "/servers/"+string(shelved.UID)+"/os-virtual-interfacesv2", body).
		expectFault(409, "conflictingRequest", "Cannot 'attach_interface' instance "+string(shelved.UID)+" while it is in vm_state shelved_offloaded")
	e.do(http.MethodPost, "/servers/"+string(locked.UID)+"/os-virtual-interfacesv2", body).
		expectFault(409, "conflictingRequest", "Instance "+string(locked.UID)+" is locked")
	e.do(http.MethodDelete, path+"/"+net1VIF, "").
		expectFault(404, "itemNotFound", "Virtual interface "+net1VIF+" could not be found.")
	for _, name := range []string{"srv-a", "srv-s", "srv-l"} {
		if got := e.getServer(name).Spec.Networks; len(got) != 0 {
			t.Errorf("%s: a refused call wrote spec.networks %v", name, got)
		}
	}
}

func TestVirtualInterfaceDelete(t *testing.T) {
	e := newEnv(t, standard(onNet1(server("srv-a", srvUID, base)))...)
	e.backend("srv-a", func(s *computev1.Server) bool { return !hasNetwork("net1")(s) },
		func(s *computev1.Server) { s.Status.Addresses = nil })
	e.do(http.MethodDelete, "/servers/"+srvUID+"/os-virtual-interfacesv2/"+net1VIF, "").expect(200)
	srv := e.getServer("srv-a")
	if len(srv.Spec.Networks) != 0 || len(srv.Status.Addresses) != 0 {
		t.Errorf("after the delete: spec %v status %v", srv.Spec.Networks, srv.Status.Addresses)
	}
	m := e.do(http.MethodGet, "/servers/"+srvUID+"/os-virtual-interfacesv2", "").expect(200).object()
	if fmt.Sprint(m) != "map[virtual_interfaces:[]]" {
		t.Errorf("list after the delete %v", m)
	}
}
