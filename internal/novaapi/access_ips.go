package novaapi

import "net/netip"

// canonicalIP is an access address as Nova stores it: its database column (IPAddress)
// keeps netaddr's canonical text, so "0000:0000:0000:0000:0000:babe:220.12.22.2" reads
// back as "::babe:dc0c:1602". The schema has already refused what is not an address;
// anything else, "" included, is kept as given.
func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	return a.String()
}
