package schemas

import (
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// NetworkCreate is POST /os-networksv2, as Rackspace Cloud Networks takes it: a label and
// an IPv4 or IPv6 CIDR (Nova's os-tenant-networks schema, less its nova-network knobs).
// rules.CheckNetworkCIDR bounds the CIDR after the schema.
func NetworkCreate() *js.Schema {
	nw := js.New(js.Type("object"), js.Properties(
		js.P("label", js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255))),
		js.P("cidr", js.New(js.Type("string"), js.MinLength(1), js.MaxLength(64))),
	), js.Required("label", "cidr"), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("network", nw)), js.Required("network"), js.NoAdditionalProperties())
}
