package novaapi

import (
	"sync"

	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// Nova's parameter types (nova/api/validation/parameter_types.py) and request schemas
// (nova/api/openstack/compute/schemas/*.py), in the same property order, since the first
// failing property is the one Nova names.

const (
	metaKeySrc = "^[a-zA-Z0-9-_:. ]{1,255}$"
	metaKeyRE  = `^[a-zA-Z0-9\-_:. ]{1,255}$`
)

var (
	sString      = js.New(js.Type("string"))
	sName        = js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255), js.Format("name"))
	sNameOrNone  = js.New(js.OneOf(js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255)), js.New(js.Type("null"))))
	sImageID     = js.New(js.Type("string"), js.Format("uuid"))
	sImageOrNone = js.New(js.OneOf(js.New(js.Type("string"), js.Format("uuid")), js.New(js.Type("string"), js.MaxLength(0))))
	sFlavorRef   = js.New(js.Type("string", "integer"), js.MinLength(1))
	sAdminPass   = sString
	sMetadata    = js.New(js.Type("object"),
		js.PatternProperties(metaKeySrc, metaKeyRE, js.New(js.Type("string"), js.MaxLength(255))),
		js.NoAdditionalProperties())
	sIPAddress  = js.New(js.Type("string"), js.OneOf(js.New(js.Format("ipv4")), js.New(js.Format("ipv6"))))
	sDiskConfig = js.New(js.Type("string"), js.Enum("AUTO", "MANUAL"))
	sAccessIPv4 = js.New(js.Type("string"), js.Format("ipv4"))
	sAccessIPv6 = js.New(js.Type("string"), js.Format("ipv6"))
	sBoolean    = js.New(js.Type("boolean", "string"), js.Enum(true, "True", "TRUE", "true", "1", "ON", "On", "on",
		"YES", "Yes", "yes", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"))
	sPositiveInteger = js.New(js.Type("integer", "string"), js.Pattern("^[0-9]*$", "^[0-9]*$"), js.Minimum(1), js.MinLength(1))
	sDescription     = js.New(js.Type("string", "null"), js.MinLength(0), js.MaxLength(255), js.Printable())
	sTag             = js.New(js.Type("string"), js.MinLength(1), js.MaxLength(maxTagLength), js.Pattern("^[^,/]*$", "^[^,/]*$"))
	sTrustedCerts    = js.New(js.Type("array", "null"), js.MinItems(1), js.MaxItems(50), js.UniqueItems(),
		js.Items(js.New(js.Type("string"), js.MinLength(1))))
	sFQDN        = js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255), js.Pattern("^[a-zA-Z0-9-._]*$", `^[a-zA-Z0-9\-._]*$`))
	sUserData    = js.New(js.Type("string"), js.Format("base64"), js.MaxLength(65535))
	sUserDataNul = js.New(js.OneOf(sUserData, js.New(js.Type("null"))))
	sPortID      = js.New(js.OneOf(js.New(js.Type("string"), js.Format("uuid")), js.New(js.Type("null"))))
	sPersonality = js.New(js.Type("array"), js.Items(js.New(js.Type("object"),
		js.Properties(js.P("path", sString), js.P("contents", js.New(js.Type("string"), js.Format("base64")))),
		js.NoAdditionalProperties())))
	sSecurityGroups = js.New(js.Type("array"), js.Items(js.New(js.Type("object"),
		js.Properties(js.P("name", sName)), js.NoAdditionalProperties())))
	// Block device mappings are accepted by shape only: Kova has no volumes yet and
	// answers any mapping with a 501.
	sBlockDevices = js.New(js.Type("array"), js.Items(js.New(js.Type("object"))))
	sHints        = js.New(js.Type("object"), js.Properties(
		js.P("group", js.New(js.Type("string"), js.Format("uuid"))),
		js.P("different_host", js.New(js.OneOf(js.New(js.Type("string"), js.Format("uuid")), js.New(js.Type("array"), js.Items(sImageID))))),
		js.P("same_host", js.New(js.Type("string", "array"), js.Items(sImageID))),
		js.P("query", js.New(js.Type("string", "object"))),
		js.P("target_cell", sName),
		js.P("different_cell", js.New(js.Type("string", "array"), js.Items(sString))),
		js.P("build_near_host_ip", sIPAddress),
		js.P("cidr", js.New(js.Type("string"), js.Pattern("^/[0-9a-f.:]+$", `^/[0-9a-f.:]+$`))),
	))
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

var createSchemas sync.Map // apiVersion -> *js.Schema

// serverCreateSchema is POST /servers's schema at a microversion.
func serverCreateSchema(v apiVersion) *js.Schema {
	if s, ok := createSchemas.Load(v); ok {
		return s.(*js.Schema)
	}
	var networks *js.Schema
	switch {
	case v.atLeast(37):
		networks = js.New(js.OneOf(
			js.New(js.Type("array"), js.Items(networkItem(true, v.atLeast(42)))),
			js.New(js.Type("string"), js.Enum("none", "auto"))))
	default:
		networks = js.New(js.Type("array"), js.Items(networkItem(false, v.atLeast(32))))
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
	if !v.atLeast(57) {
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
	if v.atLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	if v.atLeast(52) {
		ps = append(ps, js.P("tags", js.New(js.Type("array"), js.Items(sTag), js.MaxItems(maxServerTags))))
	}
	if v.atLeast(63) {
		ps = append(ps, js.P("trusted_image_certificates", sTrustedCerts))
	}
	if v.atLeast(74) {
		ps = append(ps, js.P("host", sFQDN), js.P("hypervisor_hostname", sFQDN))
	}
	required := []string{"name", "flavorRef"}
	if v.atLeast(37) {
		required = append(required, "networks")
	}
	server := js.New(js.Type("object"), js.Properties(ps...), js.Required(required...), js.NoAdditionalProperties())
	s := js.New(js.Type("object"),
		js.Properties(js.P("server", server), js.P("os:scheduler_hints", sHints), js.P("OS-SCH-HNT:scheduler_hints", sHints)),
		js.Required("server"), js.NoAdditionalProperties())
	createSchemas.Store(v, s)
	return s
}

// serverUpdateSchema is PUT /servers/{id}'s schema.
func serverUpdateSchema(v apiVersion) *js.Schema {
	ps := []js.Prop{
		js.P("name", sName),
		js.P("OS-DCF:diskConfig", sDiskConfig),
		js.P("accessIPv4", sAccessIPv4),
		js.P("accessIPv6", sAccessIPv6),
	}
	if v.atLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	server := js.New(js.Type("object"), js.Properties(ps...), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("server", server)), js.Required("server"), js.NoAdditionalProperties())
}

// actionSchema wraps an action's own schema the way Nova's action schemas do:
// {"<action>": {...}}, required, nothing else.
func actionSchema(name string, body *js.Schema) *js.Schema {
	return js.New(js.Type("object"), js.Properties(js.P(name, body)), js.Required(name), js.NoAdditionalProperties())
}

func rebuildSchema(v apiVersion) *js.Schema {
	ps := []js.Prop{
		js.P("name", sName),
		js.P("imageRef", sImageID),
		js.P("adminPass", sAdminPass),
		js.P("metadata", sMetadata),
		js.P("preserve_ephemeral", sBoolean),
		js.P("OS-DCF:diskConfig", sDiskConfig),
		js.P("accessIPv4", sAccessIPv4),
		js.P("accessIPv6", sAccessIPv6),
	}
	if !v.atLeast(57) {
		ps = append(ps, js.P("personality", sPersonality))
	}
	if v.atLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	if v.atLeast(54) {
		ps = append(ps, js.P("key_name", sNameOrNone))
	}
	if v.atLeast(57) {
		ps = append(ps, js.P("user_data", sUserDataNul))
	}
	if v.atLeast(63) {
		ps = append(ps, js.P("trusted_image_certificates", sTrustedCerts))
	}
	return actionSchema("rebuild", js.New(js.Type("object"), js.Properties(ps...), js.Required("imageRef"), js.NoAdditionalProperties()))
}

var (
	resizeSchema = actionSchema("resize", js.New(js.Type("object"),
		js.Properties(js.P("flavorRef", sFlavorRef), js.P("OS-DCF:diskConfig", sDiskConfig)),
		js.Required("flavorRef"), js.NoAdditionalProperties()))
	createImageSchema = actionSchema("createImage", js.New(js.Type("object"),
		js.Properties(js.P("name", sName), js.P("metadata", sMetadata)),
		js.Required("name"), js.NoAdditionalProperties()))
	rebootSchema = actionSchema("reboot", js.New(js.Type("object"),
		js.Properties(js.P("type", js.New(js.Type("string"), js.Enum("HARD", "Hard", "hard", "SOFT", "Soft", "soft")))),
		js.Required("type"), js.NoAdditionalProperties()))
	changePasswordSchema = actionSchema("changePassword", js.New(js.Type("object"),
		js.Properties(js.P("adminPass", sAdminPass)), js.Required("adminPass"), js.NoAdditionalProperties()))
	rescueSchema = actionSchema("rescue", js.New(js.Type("object", "null"),
		js.Properties(js.P("adminPass", sAdminPass), js.P("rescue_image_ref", sImageID)), js.NoAdditionalProperties()))
	lockSchema273 = actionSchema("lock", js.New(js.Type("object", "null"),
		js.Properties(js.P("locked_reason", js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255)))), js.NoAdditionalProperties()))
	unshelveSchema277 = actionSchema("unshelve", js.New(js.Type("object", "null"),
		js.Properties(js.P("availability_zone", sName)), js.Required("availability_zone"), js.NoAdditionalProperties()))
	triggerCrashDumpSchema = actionSchema("trigger_crash_dump", js.New(js.Type("null")))
)

// Metadata schemas (server_metadata.py and image_metadata.py are the same).
var (
	metadataSchema = js.New(js.Type("object"), js.Properties(js.P("metadata", sMetadata)), js.Required("metadata"), js.NoAdditionalProperties())
	metaItemSchema = js.New(js.Type("object"), js.Properties(js.P("meta", sMetaItem)), js.Required("meta"), js.NoAdditionalProperties())
	sMetaItem      = js.New(js.Type("object"),
		js.PatternProperties(metaKeySrc, metaKeyRE, js.New(js.Type("string"), js.MaxLength(255))),
		js.NoAdditionalProperties(), js.MinProperties(1), js.MaxProperties(1))
)
