package novaapi

import (
	"sync"
)

// Nova's parameter types (nova/api/validation/parameter_types.py) and request schemas
// (nova/api/openstack/compute/schemas/*.py), in the same property order, since the first
// failing property is the one Nova names.

const (
	metaKeySrc = "^[a-zA-Z0-9-_:. ]{1,255}$"
	metaKeyRE  = `^[a-zA-Z0-9\-_:. ]{1,255}$`
)

var (
	sString      = newSchema(kwType("string"))
	sName        = newSchema(kwType("string"), kwMinLength(1), kwMaxLength(255), kwFormat("name"))
	sNameOrNone  = newSchema(kwOneOf(newSchema(kwType("string"), kwMinLength(1), kwMaxLength(255)), newSchema(kwType("null"))))
	sImageID     = newSchema(kwType("string"), kwFormat("uuid"))
	sImageOrNone = newSchema(kwOneOf(newSchema(kwType("string"), kwFormat("uuid")), newSchema(kwType("string"), kwMaxLength(0))))
	sFlavorRef   = newSchema(kwType("string", "integer"), kwMinLength(1))
	sAdminPass   = sString
	sMetadata    = newSchema(kwType("object"),
		kwPatternProps(metaKeySrc, metaKeyRE, newSchema(kwType("string"), kwMaxLength(255))),
		kwNoAdditional())
	sIPAddress  = newSchema(kwType("string"), kwOneOf(newSchema(kwFormat("ipv4")), newSchema(kwFormat("ipv6"))))
	sDiskConfig = newSchema(kwType("string"), kwEnum("AUTO", "MANUAL"))
	sAccessIPv4 = newSchema(kwType("string"), kwFormat("ipv4"))
	sAccessIPv6 = newSchema(kwType("string"), kwFormat("ipv6"))
	sBoolean    = newSchema(kwType("boolean", "string"), kwEnum(true, "True", "TRUE", "true", "1", "ON", "On", "on",
		"YES", "Yes", "yes", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"))
	sPositiveInteger = newSchema(kwType("integer", "string"), kwPattern("^[0-9]*$", "^[0-9]*$"), kwMinimum(1), kwMinLength(1))
	sDescription     = newSchema(kwType("string", "null"), kwMinLength(0), kwMaxLength(255), kwPrintable())
	sTag             = newSchema(kwType("string"), kwMinLength(1), kwMaxLength(maxTagLength), kwPattern("^[^,/]*$", "^[^,/]*$"))
	sTrustedCerts    = newSchema(kwType("array", "null"), kwMinItems(1), kwMaxItems(50), kwUniqueItems(),
		kwItems(newSchema(kwType("string"), kwMinLength(1))))
	sFQDN        = newSchema(kwType("string"), kwMinLength(1), kwMaxLength(255), kwPattern("^[a-zA-Z0-9-._]*$", `^[a-zA-Z0-9\-._]*$`))
	sUserData    = newSchema(kwType("string"), kwFormat("base64"), kwMaxLength(65535))
	sUserDataNul = newSchema(kwOneOf(sUserData, newSchema(kwType("null"))))
	sPortID      = newSchema(kwOneOf(newSchema(kwType("string"), kwFormat("uuid")), newSchema(kwType("null"))))
	sPersonality = newSchema(kwType("array"), kwItems(newSchema(kwType("object"),
		kwProps(prop{"path", sString}, prop{"contents", newSchema(kwType("string"), kwFormat("base64"))}),
		kwNoAdditional())))
	sSecurityGroups = newSchema(kwType("array"), kwItems(newSchema(kwType("object"),
		kwProps(prop{"name", sName}), kwNoAdditional())))
	// Block device mappings are accepted by shape only: Kova has no volumes yet and
	// answers any mapping with a 501.
	sBlockDevices = newSchema(kwType("array"), kwItems(newSchema(kwType("object"))))
	sHints        = newSchema(kwType("object"), kwProps(
		prop{"group", newSchema(kwType("string"), kwFormat("uuid"))},
		prop{"different_host", newSchema(kwOneOf(newSchema(kwType("string"), kwFormat("uuid")), newSchema(kwType("array"), kwItems(sImageID))))},
		prop{"same_host", newSchema(kwType("string", "array"), kwItems(sImageID))},
		prop{"query", newSchema(kwType("string", "object"))},
		prop{"target_cell", sName},
		prop{"different_cell", newSchema(kwType("string", "array"), kwItems(sString))},
		prop{"build_near_host_ip", sIPAddress},
		prop{"cidr", newSchema(kwType("string"), kwPattern("^/[0-9a-f.:]+$", `^/[0-9a-f.:]+$`))},
	))
)

// networkItem is one entry of "networks"; from 2.37 its uuid must be a uuid, from 2.32
// to 2.36 and from 2.42 it may carry a tag.
func networkItem(uuidFormat, tag bool) *schema {
	ps := []prop{
		{"fixed_ip", sIPAddress},
		{"port", sPortID},
		{"uuid", sString},
	}
	if uuidFormat {
		ps[2].s = sImageID
	}
	if tag {
		ps = append(ps, prop{"tag", sTag})
	}
	return newSchema(kwType("object"), kwProps(ps...), kwNoAdditional())
}

var createSchemas sync.Map // apiVersion -> *schema

// serverCreateSchema is POST /servers's schema at a microversion.
func serverCreateSchema(v apiVersion) *schema {
	if s, ok := createSchemas.Load(v); ok {
		return s.(*schema)
	}
	var networks *schema
	switch {
	case v.atLeast(37):
		networks = newSchema(kwOneOf(
			newSchema(kwType("array"), kwItems(networkItem(true, v.atLeast(42)))),
			newSchema(kwType("string"), kwEnum("none", "auto"))))
	default:
		networks = newSchema(kwType("array"), kwItems(networkItem(false, v.atLeast(32))))
	}
	ps := []prop{
		{"name", sName},
		{"imageRef", sImageOrNone},
		{"flavorRef", sFlavorRef},
		{"adminPass", sAdminPass},
		{"metadata", sMetadata},
		{"networks", networks},
		{"OS-DCF:diskConfig", sDiskConfig},
		{"accessIPv4", sAccessIPv4},
		{"accessIPv6", sAccessIPv6},
	}
	if !v.atLeast(57) {
		ps = append(ps, prop{"personality", sPersonality})
	}
	ps = append(ps,
		prop{"availability_zone", sName},
		prop{"block_device_mapping", sBlockDevices},
		prop{"block_device_mapping_v2", sBlockDevices},
		prop{"config_drive", sBoolean},
		prop{"key_name", sName},
		prop{"min_count", sPositiveInteger},
		prop{"max_count", sPositiveInteger},
		prop{"return_reservation_id", sBoolean},
		prop{"security_groups", sSecurityGroups},
		prop{"user_data", sUserData},
	)
	if v.atLeast(19) {
		ps = append(ps, prop{"description", sDescription})
	}
	if v.atLeast(52) {
		ps = append(ps, prop{"tags", newSchema(kwType("array"), kwItems(sTag), kwMaxItems(maxServerTags))})
	}
	if v.atLeast(63) {
		ps = append(ps, prop{"trusted_image_certificates", sTrustedCerts})
	}
	if v.atLeast(74) {
		ps = append(ps, prop{"host", sFQDN}, prop{"hypervisor_hostname", sFQDN})
	}
	required := []string{"name", "flavorRef"}
	if v.atLeast(37) {
		required = append(required, "networks")
	}
	server := newSchema(kwType("object"), kwProps(ps...), kwRequired(required...), kwNoAdditional())
	s := newSchema(kwType("object"),
		kwProps(prop{"server", server}, prop{"os:scheduler_hints", sHints}, prop{"OS-SCH-HNT:scheduler_hints", sHints}),
		kwRequired("server"), kwNoAdditional())
	createSchemas.Store(v, s)
	return s
}

// serverUpdateSchema is PUT /servers/{id}'s schema.
func serverUpdateSchema(v apiVersion) *schema {
	ps := []prop{
		{"name", sName},
		{"OS-DCF:diskConfig", sDiskConfig},
		{"accessIPv4", sAccessIPv4},
		{"accessIPv6", sAccessIPv6},
	}
	if v.atLeast(19) {
		ps = append(ps, prop{"description", sDescription})
	}
	server := newSchema(kwType("object"), kwProps(ps...), kwNoAdditional())
	return newSchema(kwType("object"), kwProps(prop{"server", server}), kwRequired("server"), kwNoAdditional())
}

// actionSchema wraps an action's own schema the way Nova's action schemas do:
// {"<action>": {...}}, required, nothing else.
func actionSchema(name string, body *schema) *schema {
	return newSchema(kwType("object"), kwProps(prop{name, body}), kwRequired(name), kwNoAdditional())
}

func rebuildSchema(v apiVersion) *schema {
	ps := []prop{
		{"name", sName},
		{"imageRef", sImageID},
		{"adminPass", sAdminPass},
		{"metadata", sMetadata},
		{"preserve_ephemeral", sBoolean},
		{"OS-DCF:diskConfig", sDiskConfig},
		{"accessIPv4", sAccessIPv4},
		{"accessIPv6", sAccessIPv6},
	}
	if !v.atLeast(57) {
		ps = append(ps, prop{"personality", sPersonality})
	}
	if v.atLeast(19) {
		ps = append(ps, prop{"description", sDescription})
	}
	if v.atLeast(54) {
		ps = append(ps, prop{"key_name", sNameOrNone})
	}
	if v.atLeast(57) {
		ps = append(ps, prop{"user_data", sUserDataNul})
	}
	if v.atLeast(63) {
		ps = append(ps, prop{"trusted_image_certificates", sTrustedCerts})
	}
	return actionSchema("rebuild", newSchema(kwType("object"), kwProps(ps...), kwRequired("imageRef"), kwNoAdditional()))
}

var (
	resizeSchema = actionSchema("resize", newSchema(kwType("object"),
		kwProps(prop{"flavorRef", sFlavorRef}, prop{"OS-DCF:diskConfig", sDiskConfig}),
		kwRequired("flavorRef"), kwNoAdditional()))
	createImageSchema = actionSchema("createImage", newSchema(kwType("object"),
		kwProps(prop{"name", sName}, prop{"metadata", sMetadata}),
		kwRequired("name"), kwNoAdditional()))
	rebootSchema = actionSchema("reboot", newSchema(kwType("object"),
		kwProps(prop{"type", newSchema(kwType("string"), kwEnum("HARD", "Hard", "hard", "SOFT", "Soft", "soft"))}),
		kwRequired("type"), kwNoAdditional()))
	changePasswordSchema = actionSchema("changePassword", newSchema(kwType("object"),
		kwProps(prop{"adminPass", sAdminPass}), kwRequired("adminPass"), kwNoAdditional()))
	rescueSchema = actionSchema("rescue", newSchema(kwType("object", "null"),
		kwProps(prop{"adminPass", sAdminPass}, prop{"rescue_image_ref", sImageID}), kwNoAdditional()))
	lockSchema273 = actionSchema("lock", newSchema(kwType("object", "null"),
		kwProps(prop{"locked_reason", newSchema(kwType("string"), kwMinLength(1), kwMaxLength(255))}), kwNoAdditional()))
	unshelveSchema277 = actionSchema("unshelve", newSchema(kwType("object", "null"),
		kwProps(prop{"availability_zone", sName}), kwRequired("availability_zone"), kwNoAdditional()))
	triggerCrashDumpSchema = actionSchema("trigger_crash_dump", newSchema(kwType("null")))
)

// Metadata schemas (server_metadata.py and image_metadata.py are the same).
var (
	metadataSchema = newSchema(kwType("object"), kwProps(prop{"metadata", sMetadata}), kwRequired("metadata"), kwNoAdditional())
	metaItemSchema = newSchema(kwType("object"), kwProps(prop{"meta", sMetaItem}), kwRequired("meta"), kwNoAdditional())
	sMetaItem      = newSchema(kwType("object"),
		kwPatternProps(metaKeySrc, metaKeyRE, newSchema(kwType("string"), kwMaxLength(255))),
		kwNoAdditional(), kwMinProps(1), kwMaxProps(1))
)
