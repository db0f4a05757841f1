package views

import computev1 "github.com/kova-dev/kova/api/v1alpha1"

// Network is a network in Rackspace Cloud Networks (os-networksv2): GET
// /os-networksv2 and /os-networksv2/{id}.
type Network struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	CIDR  string `json:"cidr"`
}

// NewNetwork is n as os-networksv2 shows it.
func NewNetwork(n *computev1.Network) Network {
	return Network{ID: n.NovaID(), Label: n.DisplayName(), CIDR: n.Spec.CIDR}
}
