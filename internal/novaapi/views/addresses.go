package views

import (
	"net"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Address is one address as Nova lists it; field order as Nova writes it. The type and
// MAC are the OS-EXT-IPS extensions of the full server view, not of GET .../ips.
type Address struct {
	Version int32  `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type,omitempty"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr,omitempty"`
}

// Addresses groups a server's addresses by network label; extended adds the type and
// MAC.
func Addresses(srv *computev1.Server, extended bool) map[string][]Address {
	out := map[string][]Address{}
	for _, a := range srv.Status.Addresses {
		e := Address{Version: a.Version, Addr: a.Address}
		if e.Version == 0 {
			e.Version = 4
			if ip := net.ParseIP(a.Address); ip != nil && ip.To4() == nil {
				e.Version = 6
			}
		}
		if extended {
			e.Type = a.Type
			if e.Type == "" {
				e.Type = "fixed"
			}
			e.MAC = a.MACAddress
		}
		out[a.Network] = append(out[a.Network], e)
	}
	return out
}
