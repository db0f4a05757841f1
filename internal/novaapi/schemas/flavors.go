package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

var flavorSortKeys = []any{"created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
	"is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus"}

// FlavorQuery is GET /flavors's (and /flavors/detail's) query schema.
func FlavorQuery(v microversion.Version) *js.Schema {
	return queryOf(v,
		js.P("limit", qLimit),
		js.P("marker", qParam),
		js.P("is_public", qParam),
		js.P("minRam", qParam),
		js.P("minDisk", qParam),
		js.P("sort_key", js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Enum(flavorSortKeys...))))),
		js.P("sort_dir", js.New(js.Type("array"), js.Items(js.New(js.Type("string"), js.Enum("asc", "desc"))))),
	)
}
