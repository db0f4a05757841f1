package schemas

import js "github.com/kova-dev/kova/internal/novaapi/validation"

// VirtualInterfaceCreate is POST /servers/{id}/os-virtual-interfacesv2 (Rackspace Cloud
// Networks): {"virtual_interface": {"network_id": uuid}}.
var VirtualInterfaceCreate = js.New(js.Type("object"),
	js.Properties(js.P("virtual_interface", js.New(js.Type("object"),
		js.Properties(js.P("network_id", js.New(js.Type("string"), js.Format("uuid")))),
		js.Required("network_id"), js.NoAdditionalProperties()))),
	js.Required("virtual_interface"), js.NoAdditionalProperties())
