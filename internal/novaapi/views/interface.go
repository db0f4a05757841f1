package views

// VirtualInterface is one of a server's virtual interfaces in Rackspace Cloud Networks
// (os-virtual-interfacesv2): its id, MAC and the addresses it has on its network.
type VirtualInterface struct {
	ID          string      `json:"id"`
	MACAddress  string      `json:"mac_address"`
	IPAddresses []IPAddress `json:"ip_addresses"`
}

// IPAddress is one address of a virtual interface.
type IPAddress struct {
	Address      string `json:"address"`
	NetworkID    string `json:"network_id"`
	NetworkLabel string `json:"network_label"`
}
