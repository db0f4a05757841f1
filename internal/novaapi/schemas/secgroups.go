package schemas

import js "github.com/kova-dev/kova/internal/novaapi/validation"

// SecurityGroupCreate is POST and PUT /os-security-groups (schemas/security_groups.py
// create, update): a name and a description, both required, extra keys let through.
var SecurityGroupCreate = func() *js.Schema {
	text := js.New(js.Type("string"), js.MinLength(0), js.MaxLength(255))
	g := js.New(js.Type("object"), js.Properties(js.P("name", text), js.P("description", text)), js.Required("name", "description"))
	return js.New(js.Type("object"), js.Properties(js.P("security_group", g)), js.Required("security_group"))
}()

// SecurityGroupRuleCreate is POST /os-security-group-rules (create_rules): the parent
// group's id is required; Nova never validated the ports, protocol and CIDR here (its
// rule builder does).
var SecurityGroupRuleCreate = func() *js.Schema {
	r := js.New(js.Type("object"), js.Properties(
		js.P("group_id", js.New(js.Type("string", "null"), js.Format("uuid"))),
		js.P("parent_group_id", js.New(js.Type("string"), js.Format("uuid"))),
	), js.Required("parent_group_id"))
	return js.New(js.Type("object"), js.Properties(js.P("security_group_rule", r)), js.Required("security_group_rule"))
}()

// SecurityGroupAction is the addSecurityGroup or removeSecurityGroup action's body.
func SecurityGroupAction(action string) *js.Schema {
	a := js.New(js.Type("object"), js.Properties(js.P("name", js.New(js.Type("string"), js.MinLength(1)))),
		js.Required("name"), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P(action, a)), js.Required(action))
}

// FloatingIPCreate is POST /os-floating-ips: nothing, or a pool.
var FloatingIPCreate = js.New(js.Type("object", "null"), js.Properties(js.P("pool", js.New(js.Type("string", "null")))))

// AddFloatingIP and RemoveFloatingIP are the floating IP actions' bodies.
var (
	AddFloatingIP = js.New(js.Type("object"), js.Properties(js.P("addFloatingIp", js.New(js.Type("object"), js.Properties(
		js.P("address", sIPAddress), js.P("fixed_address", sIPAddress)), js.Required("address"), js.NoAdditionalProperties()))),
		js.Required("addFloatingIp"), js.NoAdditionalProperties())
	RemoveFloatingIP = js.New(js.Type("object"), js.Properties(js.P("removeFloatingIp", js.New(js.Type("object"), js.Properties(
		js.P("address", sIPAddress)), js.Required("address"), js.NoAdditionalProperties()))),
		js.Required("removeFloatingIp"), js.NoAdditionalProperties())
)
