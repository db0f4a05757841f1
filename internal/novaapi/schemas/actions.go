package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// The schemas of POST /servers/{id}/action (nova/api/openstack/compute/schemas/
// servers.py, lock_server.py, rescue.py, shelve.py, ...): each wraps the action's own
// body. An action without a schema takes any body.

// actionSchema wraps an action's own schema the way Nova's action schemas do:
// {"<action>": {...}}, required, nothing else.
func actionSchema(name string, body *js.Schema) *js.Schema {
	return js.New(js.Type("object"), js.Properties(js.P(name, body)), js.Required(name), js.NoAdditionalProperties())
}

// Rebuild is the rebuild action.
func Rebuild(v microversion.Version) *js.Schema {
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
	if !v.AtLeast(57) {
		ps = append(ps, js.P("personality", sPersonality))
	}
	if v.AtLeast(19) {
		ps = append(ps, js.P("description", sDescription))
	}
	if v.AtLeast(54) {
		ps = append(ps, js.P("key_name", sNameOrNone))
	}
	if v.AtLeast(57) {
		ps = append(ps, js.P("user_data", sUserDataNul))
	}
	if v.AtLeast(63) {
		ps = append(ps, js.P("trusted_image_certificates", sTrustedCerts))
	}
	return actionSchema("rebuild", js.New(js.Type("object"), js.Properties(ps...), js.Required("imageRef"), js.NoAdditionalProperties()))
}

// The actions whose schema is the same at every microversion.
var (
	Resize = actionSchema("resize", js.New(js.Type("object"),
		js.Properties(js.P("flavorRef", sFlavorRef), js.P("OS-DCF:diskConfig", sDiskConfig)),
		js.Required("flavorRef"), js.NoAdditionalProperties()))
	CreateImage = actionSchema("createImage", js.New(js.Type("object"),
		js.Properties(js.P("name", sName), js.P("metadata", sMetadata)),
		js.Required("name"), js.NoAdditionalProperties()))
	Reboot = actionSchema("reboot", js.New(js.Type("object"),
		js.Properties(js.P("type", js.New(js.Type("string"), js.Enum("HARD", "Hard", "hard", "SOFT", "Soft", "soft")))),
		js.Required("type"), js.NoAdditionalProperties()))
	ChangePassword = actionSchema("changePassword", js.New(js.Type("object"),
		js.Properties(js.P("adminPass", sAdminPass)), js.Required("adminPass"), js.NoAdditionalProperties()))
	Rescue = actionSchema("rescue", js.New(js.Type("object", "null"),
		js.Properties(js.P("adminPass", sAdminPass), js.P("rescue_image_ref", sImageID)), js.NoAdditionalProperties()))
	lock273 = actionSchema("lock", js.New(js.Type("object", "null"),
		js.Properties(js.P("locked_reason", js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255)))), js.NoAdditionalProperties()))
	unshelve277 = actionSchema("unshelve", js.New(js.Type("object", "null"),
		js.Properties(js.P("availability_zone", sName)), js.Required("availability_zone"), js.NoAdditionalProperties()))
	TriggerCrashDump = actionSchema("trigger_crash_dump", js.New(js.Type("null")))
)

// Lock is the lock action: a body is checked from 2.73 (locked_reason); before, none.
func Lock(v microversion.Version) *js.Schema {
	if v.AtLeast(73) {
		return lock273
	}
	return nil
}

// Unshelve is the unshelve action: from 2.77 it may name an availability zone; before,
// its body is not checked.
func Unshelve(v microversion.Version) *js.Schema {
	if v.AtLeast(77) {
		return unshelve277
	}
	return nil
}

// GetConsoleOutput is os-getConsoleOutput (console_output.py): length is a whole number
// from -1 (all of it), as a number or a string, or null (all of it).
var GetConsoleOutput = actionSchema("os-getConsoleOutput", js.New(js.Type("object"),
	js.Properties(js.P("length", js.New(js.Type("integer", "string", "null"), js.Pattern("^-?[0-9]+$", "^-?[0-9]+$"), js.Minimum(-1)))),
	js.NoAdditionalProperties()))

// CreateBackup is createBackup (create_backup.py): rotation is a non-negative whole number,
// as a number or a string of digits.
var CreateBackup = actionSchema("createBackup", js.New(js.Type("object"),
	js.Properties(
		js.P("name", sName),
		js.P("backup_type", js.New(js.Type("string"))),
		js.P("rotation", js.New(js.Type("integer", "string"), js.Pattern("^[0-9]*$", "^[0-9]*$"), js.Minimum(0), js.MinLength(1))),
		js.P("metadata", sMetadata)),
	js.Required("name", "backup_type", "rotation"), js.NoAdditionalProperties()))
