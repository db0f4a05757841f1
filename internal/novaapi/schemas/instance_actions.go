package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// InstanceActionsQuery is the os-instance-actions list's query schema from 2.58: single
// values of limit, marker, changes-since and (2.66) changes-before, nothing else.
func InstanceActionsQuery(v microversion.Version) *js.Schema {
	single := func(s *js.Schema) *js.Schema { return js.New(js.Type("array"), js.Items(s), js.MaxItems(1)) }
	dateTime := js.New(js.Type("string"), js.Format("date-time"))
	ps := []js.Prop{js.P("limit", single(nonNegativeInteger)), js.P("marker", single(sString)), js.P("changes-since", single(dateTime))}
	if v.AtLeast(66) {
		ps = append(ps, js.P("changes-before", single(dateTime)))
	}
	return js.New(js.Type("object"), js.Properties(ps...), js.NoAdditionalProperties())
}
