package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
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
	sTag             = js.New(js.Type("string"), js.MinLength(1), js.MaxLength(MaxTagLength), js.Pattern("^[^,/]*$", "^[^,/]*$"))
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

// Query parameter kinds: a query parameter is the list of its values.
var (
	qParam      = js.New(js.Type("array"), js.Items(js.New(js.Type("string"))))
	qRegexParam = js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Format("regex"))))
	qDateTime   = js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Format("date-time"))))
	qLimit      = js.New(js.Type("array"), js.Items(nonNegativeInteger))
)

var nonNegativeInteger = js.New(js.Type("integer", "string"), js.Pattern("^[0-9]*$", "^[0-9]*$"), js.Minimum(0), js.MinLength(1))

// queryOf is a query schema: these parameters, and before 2.75 any other too (Nova
// strips the ones it does not know; see novaapi's knownParams).
func queryOf(v microversion.Version, ps ...js.Prop) *js.Schema {
	kws := []js.Keyword{js.Type("object"), js.Properties(ps...)}
	if v.AtLeast(75) {
		kws = append(kws, js.NoAdditionalProperties())
	}
	return js.New(kws...)
}
