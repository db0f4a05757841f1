package views

import (
	"net/netip"
	"time"

	"github.com/google/uuid"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// The networking service's (Neutron v2.0) views of Kova's networks: a network is a Network
// object, its one subnet is its CIDR, and a port is one fixed address a server holds.
// They are maps, as the service's filters and `fields` work on attribute names. The
// attributes are those of Neutron's API reference for the extensions a plain ML2 cloud
// shows a project member; what Kova has no notion of (QoS, address scopes, DNS) is null or
// empty, as in Neutron without the feature configured.

// neutronIDs derives the ids of subnets, which Kova has no object for, from their network's,
// so that they are stable across processes and replicas. A port is a server's virtual
// interface on a network: its id and MAC are the interface's (rules.InterfaceID, rules.MAC).
var neutronIDs = uuid.MustParse("5f0c3a4e-7f8e-4b7a-9d0e-6b1f7f1c2a11")

// SubnetID is the id of network netID's one subnet.
func SubnetID(netID string) string {
	return uuid.NewSHA1(neutronIDs, []byte("subnet/"+netID)).String()
}

// neutronTime is how Neutron writes created_at and updated_at.
func neutronTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// networkProject is the project a network belongs to: its namespace (the public namespace
// for the shared ones).
func networkProject(n *computev1.Network) string { return n.Namespace }

// NeutronNetwork is GET /v2.0/networks/{id}.
func NeutronNetwork(n *computev1.Network) map[string]any {
	created := neutronTime(n.CreationTimestamp.Time)
	return map[string]any{
		"id":                        n.NovaID(),
		"name":                      n.DisplayName(),
		"tenant_id":                 networkProject(n),
		"project_id":                networkProject(n),
		"admin_state_up":            true,
		"status":                    "ACTIVE",
		"subnets":                   []string{SubnetID(n.NovaID())},
		"shared":                    n.Spec.Shared,
		"router:external":           false,
		"mtu":                       1500,
		"description":               "",
		"availability_zone_hints":   []string{},
		"availability_zones":        []string{"nova"},
		"ipv4_address_scope":        nil,
		"ipv6_address_scope":        nil,
		"l2_adjacency":              true,
		"port_security_enabled":     true,
		"qos_policy_id":             nil,
		"is_default":                false,
		"tags":                      []string{},
		"created_at":                created,
		"updated_at":                created,
		"revision_number":           n.Generation,
		"provider:network_type":     nil,
		"provider:physical_network": nil,
		"provider:segmentation_id":  nil,
	}
}

// NeutronSubnet is GET /v2.0/subnets/{id}: the network's CIDR, gateway and the usable
// addresses as allocation pools.
func NeutronSubnet(n *computev1.Network) map[string]any {
	created := neutronTime(n.CreationTimestamp.Time)
	version, gateway := 4, any(nil)
	pools := []map[string]string{}
	if p, err := rules.NewPool(n); err == nil {
		if p.Prefix.Addr().Is6() {
			version = 6
		}
		if p.Contains(p.Gateway) {
			gateway = p.Gateway.String()
		}
		for _, r := range p.Ranges() {
			pools = append(pools, map[string]string{"start": r[0].String(), "end": r[1].String()})
		}
	}
	return map[string]any{
		"id":                SubnetID(n.NovaID()),
		"name":              n.DisplayName(),
		"network_id":        n.NovaID(),
		"tenant_id":         networkProject(n),
		"project_id":        networkProject(n),
		"ip_version":        version,
		"cidr":              n.Spec.CIDR,
		"gateway_ip":        gateway,
		"allocation_pools":  pools,
		"enable_dhcp":       true,
		"dns_nameservers":   []string{},
		"host_routes":       []string{},
		"ipv6_address_mode": nil,
		"ipv6_ra_mode":      nil,
		"subnetpool_id":     nil,
		"segment_id":        nil,
		"description":       "",
		"service_types":     []string{},
		"tags":              []string{},
		"created_at":        created,
		"updated_at":        created,
		"revision_number":   n.Generation,
	}
}

// NeutronPort is GET /v2.0/ports/{id}: the address srv holds on n. Its device is the
// server, as Nova's ports are; it is up while the server is ACTIVE.
func NeutronPort(srv *computev1.Server, n *computev1.Network, a computev1.ServerAddress) map[string]any {
	created := neutronTime(srv.CreationTimestamp.Time)
	status := "DOWN"
	if srv.Status.Status == "ACTIVE" {
		status = "ACTIVE"
	}
	mac := a.MACAddress
	if mac == "" {
		mac = rules.MAC(string(srv.UID), n.Name)
	}
	ip := a.Address
	if addr, err := netip.ParseAddr(a.Address); err == nil {
		ip = addr.String()
	}
	// Kova's one availability zone (a server's spec may name a host in it, never another).
	az := "nova"
	return map[string]any{
		"id":                    rules.InterfaceID(string(srv.UID), n.Namespace, n.Name),
		"name":                  "",
		"network_id":            n.NovaID(),
		"tenant_id":             srv.Namespace,
		"project_id":            srv.Namespace,
		"mac_address":           mac,
		"admin_state_up":        true,
		"status":                status,
		"device_id":             string(srv.UID),
		"device_owner":          "compute:" + az,
		"fixed_ips":             []map[string]string{{"subnet_id": SubnetID(n.NovaID()), "ip_address": ip}},
		"allowed_address_pairs": []string{},
		"extra_dhcp_opts":       []string{},
		"security_groups":       []string{},
		"description":           "",
		"binding:vnic_type":     "normal",
		"port_security_enabled": true,
		"ip_allocation":         "immediate",
		"dns_name":              "",
		"qos_policy_id":         nil,
		"tags":                  []string{},
		"created_at":            created,
		"updated_at":            created,
		"revision_number":       srv.Generation,
	}
}
