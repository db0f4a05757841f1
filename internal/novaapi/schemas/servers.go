package schemas

import (
	"sync"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// Nova's limits on server tags, which the create schema and the tags API enforce.
const (
	MaxServerTags = 50 // instance.MAX_TAG_COUNT
	MaxTagLength  = 60 // tag.MAX_TAG_LENGTH
)

// networkItem is one entry of "networks"; from 2.37 its uuid must be a uuid, from 2.32
// to 2.36 and from 2.42 it may carry a tag.
func networkItem(uuidFormat, tag bool) *js.Schema {
	ps := []js.Prop{
		js.P("fixed_ip", sIPAddress),
		js.P("port", sPortID),
		js.P("uuid", sString),
	}
	if uuidFormat {
		ps[2].Schema = sImageID
	}
	if tag {
		ps = append(ps, js.P("tag", sTag))
	}
	return js.New(js.Type("object"), js.Properties(ps...), js.NoAdditionalProperties())
}

var createSchemas sync.Map // microversion.Version -> *js.Schema: built once per version

// ServerCreate is POST /servers's schema at a microversion.
func ServerCreate(v microversion.Version) *js.Schema {
	if s, ok := createSchemas.Load(v); ok {
		return s.(*js.Schema)
	}
	var networks *js.Schema
	switch {
	case v.AtLeast(37):
		networks = js.New(js.OneOf(
			js.New(js.Type("array"), js.Items(networkItem(true, v.AtLeast(42)))),
			js.New(js.Type("string"), js.Enum("none", "auto"))))
	default:
		networks = js.New(js.Type("array"), js.Items(networkItem(false, v.AtLeast(32))))
	}
	ps := []js.Prop{
		js.P("name", sName),
		js.P("imageRef", sImageOrNone),
		js.P("flavorRef", sFlavorRef),
		js.P("adminPass", sAdminPass),
		js.P("metadata", sMetadata),
		js.P("networks", networks),
		js.P("OS-DCF:diskConfig", sDiskConfig),
		js.P("accessIPv4", sAccessIPv4),
		js.P("accessIPv6", sAccessIPv6),
	}
	if !v.AtLeast(57) {
		ps = append(ps, js.P("personality", sPersonality))
	}
	ps = append(ps,
		js.P("availability_zone", sName),
		js.P("block_device_mapping", sBlockDevices),
		js.P("block_device_mapping_v2", sBlockDevices),
		js.P("config_drive", sBoolean),
		js.P("key_name", sName),
		js.P("min_count", sPositiveInteger),
		js.P("max_count", sPositiveInteger),
		js.P("return_reservation_id", sBoolean),
		js.P("security_groups", sSecurityGroups),
		js.P("user_data", sUserData),
	)
	if v.AtLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	if v.AtLeast(52) {
		ps = append(ps, js.P("tags", js.New(js.Type("array"), js.Items(sTag), js.MaxItems(MaxServerTags))))
	}
	if v.AtLeast(63) {
		ps = append(ps, js.P("trusted_image_certificates", sTrustedCerts))
	}
	if v.AtLeast(74) {
		ps = append(ps, js.P("host", sFQDN), js.P("hypervisor_hostname", sFQDN))
	}
	required := []string{"name", "flavorRef"}
	if v.AtLeast(37) {
		required = append(required, "networks")
	}
	server := js.New(js.Type("object"), js.Properties(ps...), js.Required(required...), js.NoAdditionalProperties())
	s := js.New(js.Type("object"),
		js.Properties(js.P("server", server), js.P("os:scheduler_hints", sHints), js.P("OS-SCH-HNT:scheduler_hints", sHints)),
		js.Required("server"), js.NoAdditionalProperties())
	createSchemas.Store(v, s)
	return s
}

// ServerUpdate is PUT /servers/{id}'s schema.
func ServerUpdate(v microversion.Version) *js.Schema {
	ps := []js.Prop{
		js.P("name", sName),
		js.P("OS-DCF:diskConfig", sDiskConfig),
		js.P("accessIPv4", sAccessIPv4),
		js.P("accessIPv6", sAccessIPv6),
	}
	if v.AtLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	server := js.New(js.Type("object"), js.Properties(ps...), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("server", server)), js.Required("server"), js.NoAdditionalProperties())
}

// ServerTags is PUT /servers/{id}/tags (server_tags.py's update_all).
var ServerTags = js.New(js.Type("object"),
	js.Properties(js.P("tags", js.New(js.Type("array"), js.Items(sTag), js.MaxItems(MaxServerTags)))),
	js.Required("tags"), js.NoAdditionalProperties())
