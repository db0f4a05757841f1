package novaserver

import (
	"errors"
	"slices"
	"testing"

	"github.com/kova-dev/kova/internal/novaapi"
)

// TestDecodeVersions: a table's rows are read by their columns' names, wherever the columns
// are; an unset cell is ""; a table with a column that is not text is read all the same; one
// without the columns says so (the fallback to metadata), and a short row is an error.
func TestDecodeVersions(t *testing.T) {
	want := []novaapi.ServerVersion{{Name: "a", UID: "uid-a", ResourceVersion: "11"}, {Name: "b", UID: "uid-b", ResourceVersion: "12"}}
	for _, tt := range []struct {
		name, table string
		want        []novaapi.ServerVersion
		err         error
	}{
		{name: "text", want: want, table: `{"kind":"Table","columnDefinitions":[{"name":"Name"},{"name":"Task"},{"name":"Resource Version"},{"name":"ID"}],
			"rows":[{"cells":["a",null,"11","uid-a"],"object":null},{"cells":["b","spawning","12","uid-b"]}]}`},
		{name: "a column not text", want: want, table: `{"columnDefinitions":[{"name":"Name"},{"name":"vCPUs"},{"name":"ID"},{"name":"Resource Version"}],
			"rows":[{"cells":["a",2,"uid-a","11"]},{"cells":["b",{"x":[1]},"uid-b","12"]}]}`},
		{name: "empty", want: []novaapi.ServerVersion{}, table: `{"columnDefinitions":[{"name":"Name"},{"name":"ID"},{"name":"Resource Version"}],"rows":[]}`},
		{name: "no version columns", err: novaapi.ErrNoVersionColumns, table: `{"columnDefinitions":[{"name":"Name"},{"name":"Status"}],"rows":[{"cells":["a","ACTIVE"]}]}`},
	} {
		got, err := decodeVersions([]byte(tt.table))
		if !errors.Is(err, tt.err) || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	for _, bad := range []string{
		`{"columnDefinitions":[{"name":"Name"},{"name":"ID"},{"name":"Resource Version"}],"rows":[{"cells":["a","uid-a"]}]}`,
		`{"columnDefinitions":[{"name":"Name"},{"name":"ID"},{"name":"Resource Version"}],"rows":[{"cells":["a",7,"11"]}]}`,
		`{"columnDefinitions":`,
	} {
		if got, err := decodeVersions([]byte(bad)); err == nil || errors.Is(err, novaapi.ErrNoVersionColumns) {
			t.Errorf("%s: %v, %v; want an error", bad, got, err)
		}
	}
}
