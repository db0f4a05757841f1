package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

var (
	limitsQuery    = queryOf(microversion.Min, js.P("tenant_id", qParam))
	limitsQuery275 = queryOf(microversion.V2(75), js.P("tenant_id", qParam))
)

// LimitsQuery is GET /limits's query schema.
func LimitsQuery(v microversion.Version) *js.Schema {
	if v.AtLeast(75) {
		return limitsQuery275
	}
	return limitsQuery
}
