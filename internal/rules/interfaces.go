package rules

import (
	"crypto/sha256"
	"fmt"

	"github.com/google/uuid"
)

// A server has at most one virtual interface on a network (as in Rackspace's Cloud
// Networks), so the server and the network name the interface: its id and MAC are derived
// from them, the same wherever they are computed (the shim, the controller, after a
// restart), with no record of their own.

// interfaceSpace is the UUID namespace of interface ids (a fixed random UUID).
var interfaceSpace = uuid.MustParse("6f0c2c1e-3a51-4b0e-9d4e-6b1f4f2a7c11")

// InterfaceID is the id of server uid's virtual interface on the network ns/name.
func InterfaceID(uid, ns, name string) string {
	return uuid.NewSHA1(interfaceSpace, []byte(uid+"/"+ns+"/"+name)).String()
}

// MAC is the stable, locally administered MAC address of server uid's port on a network.
func MAC(uid, network string) string {
	h := sha256.Sum256([]byte(uid + "/" + network))
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", h[0], h[1], h[2])
}
