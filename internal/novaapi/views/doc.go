// Package views is the bodies the compute API answers with, as typed structs, one file
// per resource, each field documented with the microversions it appears at (Nova's
// nova/api/openstack/compute/views/*.py):
//
//   - server.go: a server, the body of GET /servers/{id} ("server") and of each
//     /servers/detail entry, PUT /servers/{id} and rebuild; server_admin.go its
//     OS-EXT-SRV-ATTR fields; addresses.go its addresses (also GET .../ips);
//   - flavor.go: a flavor, and the flavor a server embeds from 2.47;
//   - server_summary.go: a server in GET /servers, and POST /servers's answer;
//     flexcloud.go: the FlexCloud create's answer;
//   - image.go, keypair.go, network.go, limits.go (GET /limits), instance_action.go
//     (os-instance-actions and their events);
//   - links.go ("links" lists and references), times.go (Nova's two time formats);
//   - opt.go: Opt, a field that is absent, null or a value.
//
// Handlers (package novaapi) find what a view needs (the server's image id, its flavor,
// whether the caller is Nova's admin) and these functions lay it out. JSON field names,
// null against absent, and the microversion of every field are the contract with clients:
// strict clients refuse a field they do not expect.
package views
