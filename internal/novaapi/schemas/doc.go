// Package schemas is Nova's request schemas, one file per API area, written with
// package validation's keywords: nova/api/validation/parameter_types.py is types.go,
// nova/api/openstack/compute/schemas/servers.py is servers.go (create, update, the list's
// query) and actions.go (rebuild, resize, reboot, ...), and so on for metadata, keypairs,
// flavors, limits and instance actions.
//
// Properties are listed in Nova's order, since the first failing property is the one
// Nova names. A schema that changes with the microversion is a function of it.
package schemas
