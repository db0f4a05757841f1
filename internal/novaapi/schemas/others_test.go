package schemas

import (
	"slices"
	"strings"
	"testing"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

func TestMetadataSchemas(t *testing.T) {
	checkBodies(t, []bodyCase{
		{"metadata", Metadata, `{"metadata": {"a b:c.d_e-f": "v"}}`, ""},
		{"metadata value too long", Metadata, `{"metadata": {"k": "` + strings.Repeat("v", 256) + `"}}`,
			"Invalid input for field/attribute k. Value: " + strings.Repeat("v", 256) + ". '" + strings.Repeat("v", 256) + "' is too long"},
		{"metadata value not a string", Metadata, `{"metadata": {"k": 1}}`,
			"Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
		{"meta item", MetaItem, `{"meta": {"k": "v"}}`, ""},
		{"meta item with two keys", MetaItem, `{"meta": {"k": "v", "l": "w"}}`,
			"Invalid input for field/attribute meta. Value: {'k': 'v', 'l': 'w'}. {'k': 'v', 'l': 'w'} has too many properties"},
		{"meta item empty", MetaItem, `{"meta": {}}`,
			"Invalid input for field/attribute meta. Value: {}. {} does not have enough properties"},
	})
}

func TestKeypairSchemas(t *testing.T) {
	checkBodies(t, []bodyCase{
		{"keypair", KeypairCreate(microversion.V2(10)), `{"keypair": {"name": "k-1", "type": "ssh", "user_id": "u"}}`, ""},
		{"keypair name characters", KeypairCreate(microversion.Min), `{"keypair": {"name": "k.pub"}}`,
			"An invalid 'name' value was provided. The name must be: Only expected characters: [_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]"},
		{"keypair type from 2.2", KeypairCreate(microversion.Min), `{"keypair": {"name": "k", "type": "ssh"}}`,
			"Invalid input for field/attribute keypair. Value: {'name': 'k', 'type': 'ssh'}. Additional properties are not allowed ('type' was unexpected)"},
		{"keypair type", KeypairCreate(microversion.V2(2)), `{"keypair": {"name": "k", "type": "rsa"}}`,
			"Invalid input for field/attribute type. Value: rsa. 'rsa' is not one of ['ssh', 'x509']"},
	})
	if got := queryRefusal(KeypairQuery(microversion.V2(35), true), "limit=-1"); got != "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'" {
		t.Errorf("keypairs limit: %q", got)
	}
	if got := queryRefusal(KeypairQuery(microversion.V2(35), false), "limit=x"); got != "" {
		t.Errorf("a keypair's show refused limit before 2.75: %q", got)
	}
	if got := queryRefusal(KeypairQuery(microversion.V2(75), false), "limit=1"); got != "Additional properties are not allowed ('limit' was unexpected)" {
		t.Errorf("a keypair's show at 2.75: %q", got)
	}
}

func TestQuerySchemas(t *testing.T) {
	tests := []struct {
		name string
		v    microversion.Version
		s    func(microversion.Version) string
		want string
	}{
		{"servers sort key", microversion.Min, func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "sort_key=color") },
			"Invalid input for query parameters sort_key. Value: color. 'color' is not one of [" + quoted(slices.Concat(SortKeys, ignoredSortKeys)) + "]"},
		{"servers ignored key accepted before 2.75", microversion.V2(74), func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "sort_key=vcpus") }, ""},
		{"servers ignored key refused at 2.75", microversion.V2(75), func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "sort_key=vcpus") },
			"Invalid input for query parameters sort_key. Value: vcpus. 'vcpus' is not one of [" + quoted(slices.Concat(SortKeys, []string{"locked"})) + "]"},
		{"servers unknown parameter before 2.75", microversion.V2(74), func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "color=red") }, ""},
		{"servers unknown parameter at 2.75", microversion.V2(75), func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "color=red") },
			"'color' does not match any of the regexes: '^_'"},
		{"servers name regex", microversion.Min, func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "name=(") },
			"Invalid input for query parameters name. Value: (. '(' is not a 'regex'"},
		{"servers changes-since", microversion.Min, func(v microversion.Version) string { return queryRefusal(ServerQuery(v), "changes-since=soon") },
			"Invalid input for query parameters changes-since. Value: soon. 'soon' is not a 'date-time'"},
		{"flavors sort_dir", microversion.Min, func(v microversion.Version) string { return queryRefusal(FlavorQuery(v), "sort_dir=up") },
			"Invalid input for query parameters sort_dir. Value: up. 'up' is not one of ['asc', 'desc']"},
		{"limits tenant_id", microversion.V2(75), func(v microversion.Version) string { return queryRefusal(LimitsQuery(v), "tenant_id=a&reserved=1") },
			"Additional properties are not allowed ('reserved' was unexpected)"},
		{"limits before 2.75", microversion.V2(74), func(v microversion.Version) string { return queryRefusal(LimitsQuery(v), "reserved=1") }, ""},
		{"instance actions: one limit", microversion.V2(58), func(v microversion.Version) string { return queryRefusal(InstanceActionsQuery(v), "limit=1&limit=2") },
			"Invalid input for query parameters limit. Value: ['1', '2']. ['1', '2'] is too long"},
		{"instance actions: changes-before from 2.66", microversion.V2(65), func(v microversion.Version) string {
			return queryRefusal(InstanceActionsQuery(v), "changes-before=2026-11-22")
		}, "Additional properties are not allowed ('changes-before' was unexpected)"},
	}
	for _, tt := range tests {
		if got := tt.s(tt.v); got != tt.want {
			t.Errorf("%s: got %q\n want %q", tt.name, got, tt.want)
		}
	}
	if got := IgnoredSortKeys(microversion.V2(73)); slices.Contains(got, "locked") || len(got) != len(ignoredSortKeys)-1 {
		t.Errorf("ignored sort keys at 2.73: %v", got)
	}
	if IgnoredSortKeys(microversion.V2(75)) != nil {
		t.Error("sort keys ignored at 2.75")
	}
}

// quoted is keys as a Python list's items: 'a', 'b'.
func quoted(keys []string) string {
	return "'" + strings.Join(keys, "', '") + "'"
}
