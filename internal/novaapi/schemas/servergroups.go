package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// ServerGroupCreate is POST /os-server-groups (schemas/server_groups.py create,
// create_v215, create_v264): a name and one policy, in a one-item list "policies" before
// 2.64 (the soft policies from 2.15), a string "policy" and optional "rules" from 2.64.
// Nothing else is allowed.
func ServerGroupCreate(v microversion.Version) *js.Schema {
	policies := []any{"anti-affinity", "affinity"}
	if v.AtLeast(15) {
		policies = append(policies, "soft-anti-affinity", "soft-affinity")
	}
	props := []js.Prop{js.P("name", sName)}
	required := []string{"name"}
	if v.AtLeast(64) {
		rules := js.New(js.Type("object"), js.Properties(js.P("max_server_per_host", sPositiveInteger)), js.NoAdditionalProperties())
		props = append(props, js.P("policy", js.New(js.Type("string"), js.Enum(policies...))), js.P("rules", rules))
		required = append(required, "policy")
	} else {
		props = append(props, js.P("policies", js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Enum(policies...))),
			js.UniqueItems(), js.MinItems(1), js.MaxItems(1))))
		required = append(required, "policies")
	}
	g := js.New(js.Type("object"), js.Properties(props...), js.Required(required...), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("server_group", g)), js.Required("server_group"), js.NoAdditionalProperties())
}

// ServerGroupQuery is GET /os-server-groups' query (index_query, index_query_v275).
func ServerGroupQuery(v microversion.Version) *js.Schema {
	return queryOf(v, js.P("all_projects", qParam), js.P("limit", qLimit), js.P("offset", qLimit))
}
