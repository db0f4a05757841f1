package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

var sKeypairName = js.New(js.AllOf(sName,
	js.New(js.Type("string"), js.MinLength(1), js.MaxLength(255), js.Format("keypair_name_20"))))

// KeypairCreate is POST /os-keypairs: type from 2.2, user_id from 2.10.
func KeypairCreate(v microversion.Version) *js.Schema {
	ps := []js.Prop{js.P("name", sKeypairName)}
	if v.AtLeast(2) {
		ps = append(ps, js.P("type", js.New(js.Type("string"), js.Enum("ssh", "x509"))))
	}
	ps = append(ps, js.P("public_key", sString))
	if v.AtLeast(10) {
		ps = append(ps, js.P("user_id", sString))
	}
	kp := js.New(js.Type("object"), js.Properties(ps...), js.Required("name"), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("keypair", kp)), js.Required("keypair"), js.NoAdditionalProperties())
}

// KeypairQuery is the query schema of the keypairs list (list) or of one keypair:
// user_id from 2.10, limit and marker on the list from 2.35.
func KeypairQuery(v microversion.Version, list bool) *js.Schema {
	var ps []js.Prop
	if v.AtLeast(10) {
		ps = append(ps, js.P("user_id", qParam))
	}
	if list && v.AtLeast(35) {
		ps = append(ps, js.P("limit", qLimit), js.P("marker", qParam))
	}
	return queryOf(v, ps...)
}
