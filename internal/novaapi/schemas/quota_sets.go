package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// maxQuota is Nova's db constant MAX_INT, the largest quota it stores.
const maxQuota = 0x7FFFFFFF

var sQuota = js.New(js.Type("integer", "string"), js.Pattern("^-?[0-9]+$", "^-?[0-9]+$"), js.Minimum(-1), js.Maximum(maxQuota))

// QuotaSetUpdate is PUT /os-quota-sets/{tenant} (schemas/quota_sets.py): the quotas the
// microversion shows, each -1 to MAX_INT, and force. The network proxies' quotas go at
// 2.36, the injected files' at 2.57.
func QuotaSetUpdate(v microversion.Version, names []string) *js.Schema {
	var ps []js.Prop
	for _, n := range names {
		ps = append(ps, js.P(n, sQuota))
	}
	ps = append(ps, js.P("force", sBoolean))
	qs := js.New(js.Properties(ps...), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("quota_set", qs)), js.Required("quota_set"), js.NoAdditionalProperties())
}

// QuotaSetQuery is the query of os-quota-sets: user_id (Kova's quotas are per tenant, so it
// changes nothing).
func QuotaSetQuery(v microversion.Version) *js.Schema {
	return queryOf(v, js.P("user_id", qParam))
}

// QuotaClassUpdate is PUT /os-quota-class-sets/{class} (schemas/quota_classes.py): the
// quotas of names, each -1 to MAX_INT, and nothing else (no force).
func QuotaClassUpdate(names []string) *js.Schema {
	var ps []js.Prop
	for _, n := range names {
		ps = append(ps, js.P(n, sQuota))
	}
	qs := js.New(js.Properties(ps...), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("quota_class_set", qs)), js.Required("quota_class_set"), js.NoAdditionalProperties())
}
