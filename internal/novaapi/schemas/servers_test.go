package schemas

import (
	"testing"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// TestSchemaMessages: Nova's schemas, as Kova writes them, refuse what Nova refuses with
// Nova's words. The keywords themselves are tested in package validation.
func TestSchemaMessages(t *testing.T) {
	v237 := ServerCreate(microversion.V2(37))
	tests := []struct {
		name string
		s    *js.Schema
		body string
		want string
	}{
		{"first failing property in schema order", ServerCreate(microversion.Min),
			`{"server": {"flavorRef": "", "name": ""}}`, "Invalid input for field/attribute name. Value: . '' is too short"},
		{"flavorRef type", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": 1.5}}`, "Invalid input for field/attribute flavorRef. Value: 1.5. 1.5 is not of type 'string', 'integer'"},
		{"two unexpected", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "a": 1, "b": 2}}`, "Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'a': 1, 'b': 2}. Additional properties are not allowed ('a', 'b' were unexpected)"},
		{"top level extra", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1"}, "x": 1}`, "Additional properties are not allowed ('x' was unexpected)"},
		{"network item index", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"uuid": "u", "foo": 1}]}}`, "Invalid input for field/attribute 0. Value: {'uuid': 'u', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
		{"fixed ip", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"fixed_ip": "1.2.3"}]}}`, "Invalid input for field/attribute fixed_ip. Value: 1.2.3. '1.2.3' is not valid under any of the given schemas"},
		{"count minimum", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "min_count": "0"}}`, "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
		{"boolean", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "config_drive": "maybe"}}`, "Invalid input for field/attribute config_drive. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
		{"user_data", ServerCreate(microversion.Min),
			`{"server": {"name": "x", "flavorRef": "1", "user_data": "%%%"}}`, "Invalid input for field/attribute user_data. Value: %%%. '%%%' is not a 'base64'"},
		{"networks uuid from 2.37", v237,
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"uuid": "net1"}]}}`, "Invalid input for field/attribute networks. Value: [{'uuid': 'net1'}]. [{'uuid': 'net1'}] is not valid under any of the given schemas"},
		{"description from 2.19 only", ServerCreate(microversion.V2(18)),
			`{"server": {"name": "x", "flavorRef": "1", "description": "d"}}`, "Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'description': 'd'}. Additional properties are not allowed ('description' was unexpected)"},
		{"tags", ServerCreate(microversion.V2(52)),
			`{"server": {"name": "x", "flavorRef": "1", "tags": ["a,b"]}}`, "Invalid input for field/attribute 0. Value: a,b. 'a,b' does not match '^[^,/]*$'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(t, tt.s, tt.body); got != tt.want {
				t.Errorf("got %q\n want %q", got, tt.want)
			}
		})
	}
	if got := refusal(t, v237, `{"server": {"name": "x", "flavorRef": 1, "networks": "auto", "metadata": {"a b:c": "d"}}}`); got != "" {
		t.Errorf("valid body refused: %s", got)
	}
}
