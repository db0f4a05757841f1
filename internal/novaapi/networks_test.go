package novaapi

import (
	"context"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

func TestNetworkCreateShowDelete(t *testing.T) {
	serviceNet := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: rules.ServiceNetNetworkID, UID: "99999999-0000-0000-0000-000000000000"},
		Spec: computev1.NetworkSpec{Label: "private", CIDR: "10.176.0.0/16", Shared: true}}
	e := newEnv(t, standard(serviceNet)...)

	created := e.do(http.MethodPost, "/os-networksv2", `{"network": {"label": "backend", "cidr": "192.168.10.0/24"}}`).expect(200).object()
	nw := created["network"].(map[string]any)
	id := nw["id"].(string)
	if nw["label"] != "backend" || nw["cidr"] != "192.168.10.0/24" || !computev1.IsNetworkID(id) || len(nw) != 3 {
		t.Fatalf("created %v", created)
	}
	var obj computev1.Network
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: id}, &obj); err != nil {
		t.Fatalf("the network object named by its id: %v", err)
	}
	if obj.Spec.Shared || obj.Spec.Label != "backend" {
		t.Errorf("object %+v", obj.Spec)
	}
	shown := e.do(http.MethodGet, "/os-networksv2/"+id, "").expect(200).object()["network"].(map[string]any)
	if shown["id"] != id || shown["label"] != "backend" {
		t.Errorf("shown %v", shown)
	}
	// The shared network's id is its name, not its uid.
	e.do(http.MethodGet, "/os-networksv2/"+rules.ServiceNetNetworkID, "").expect(200)
	e.do(http.MethodGet, "/os-networksv2/99999999-0000-0000-0000-000000000000", "").expectFault(404, "itemNotFound", "Network could not be found.")

	for _, c := range []struct{ body, msg string }{
		{`{"network": {"label": "x"}}`, "Invalid input for field/attribute network. Value: {'label': 'x'}. 'cidr' is a required property"},
		{`{"network": {"label": "", "cidr": "10.1.0.0/24"}}`, "Invalid input for field/attribute label. Value: . '' is too short"},
		{`{"network": {"label": "x", "cidr": "10.1.0.0/24", "vlan": 3}}`, "Invalid input for field/attribute network. Value: {'label': 'x', 'cidr': '10.1.0.0/24', 'vlan': 3}. Additional properties are not allowed ('vlan' was unexpected)"},
		{`{"network": {"label": "x", "cidr": "nonsense"}}`, `Invalid CIDR "nonsense": a CIDR is an address and a prefix length, e.g. 10.0.0.0/24 or fd00::/64.`},
		{`{"network": {"label": "x", "cidr": "10.0.0.0/8"}}`, "Invalid CIDR 10.0.0.0/8: the prefix length must be between /16 and /29."},
		{`{"network": {"label": "x", "cidr": "10.0.0.0/30"}}`, "Invalid CIDR 10.0.0.0/30: the prefix length must be between /16 and /29."},
		{`{"network": {"label": "x", "cidr": "fd00::/48"}}`, "Invalid CIDR fd00::/48: the prefix length must be between /64 and /126."},
		{`{"network": {"label": "x", "cidr": "10.1.0.5/24"}}`, "Invalid CIDR 10.1.0.5/24: the address is not the network's own; use 10.1.0.0/24."},
	} {
		e.do(http.MethodPost, "/os-networksv2", c.body).expectFault(400, "badRequest", c.msg)
	}

	// In use: a server with an address on it, or one still building with it in its spec.
	holder := server("srv-h", srvUID, base)
	holder.Spec.Networks = []computev1.NetworkAttachment{{Name: id}}
	if err := e.c.Create(context.Background(), holder); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodDelete, "/os-networksv2/"+id, "").expectFault(409, "conflictingRequest", "Network "+id+" is still in use.")
	if err := e.c.Delete(context.Background(), holder); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodDelete, "/os-networksv2/"+id, "").expect(202)
	e.do(http.MethodGet, "/os-networksv2/"+id, "").expectFault(404, "itemNotFound", "Network could not be found.")
	e.do(http.MethodDelete, "/os-networksv2/"+id, "").expectFault(404, "itemNotFound", "Network could not be found.")
}

func TestServersUsingNetwork(t *testing.T) {
	net := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "net1"}}
	shared := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: public, Name: "net1"}}
	withAddr := server("a", "1", base)
	withAddr.Status.Addresses = []computev1.ServerAddress{{NetworkNamespace: tenant, NetworkName: "net1", Address: "10.0.0.2"}}
	building := server("b", "2", base)
	building.Spec.Networks = []computev1.NetworkAttachment{{Name: "net1"}}
	onShared := server("c", "3", base)
	onShared.Spec.Networks = []computev1.NetworkAttachment{{Name: "net1"}}
	onShared.Status.Addresses = []computev1.ServerAddress{{NetworkNamespace: public, NetworkName: "net1", Address: "10.9.0.2"}}
	elsewhere := server("d", "4", base)
	elsewhere.Namespace = "other"
	elsewhere.Spec.Networks = []computev1.NetworkAttachment{{Name: "net1"}}
	srvs := []computev1.Server{*withAddr, *building, *onShared, *elsewhere}
	if got := rules.ServersUsingNetwork(srvs, net, public); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("tenant network used by %v, want [a b]", got)
	}
	// d (another tenant, nothing recorded) may be building on the shared one.
	if got := rules.ServersUsingNetwork(srvs, shared, public); len(got) != 3 || got[0] != "b" || got[1] != "c" || got[2] != "d" {
		t.Errorf("shared network used by %v, want [b c d]", got)
	}
}
