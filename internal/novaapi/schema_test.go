package novaapi

import (
	"testing"

	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// TestSchemaMessages: Nova's schemas, as Kova writes them, refuse what Nova refuses with
// Nova's words. The keywords themselves are tested in package validation.
func TestSchemaMessages(t *testing.T) {
	v237 := serverCreateSchema(apiVersion{2, 37})
	tests := []struct {
		name string
		s    *js.Schema
		body string
		want string
	}{
		{"first failing property in schema order", serverCreateSchema(minVersion),
			`{"server": {"flavorRef": "", "name": ""}}`, "Invalid input for field/attribute name. Value: . '' is too short"},
		{"flavorRef type", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": 1.5}}`, "Invalid input for field/attribute flavorRef. Value: 1.5. 1.5 is not of type 'string', 'integer'"},
		{"two unexpected", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "a": 1, "b": 2}}`, "Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'a': 1, 'b': 2}. Additional properties are not allowed ('a', 'b' were unexpected)"},
		{"top level extra", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1"}, "x": 1}`, "Additional properties are not allowed ('x' was unexpected)"},
		{"network item index", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"uuid": "u", "foo": 1}]}}`, "Invalid input for field/attribute 0. Value: {'uuid': 'u', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
		{"fixed ip", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"fixed_ip": "1.2.3"}]}}`, "Invalid input for field/attribute fixed_ip. Value: 1.2.3. '1.2.3' is not valid under any of the given schemas"},
		{"count minimum", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "min_count": "0"}}`, "Invalid input for field/attribute min_count. Value: 0. 0 is less than the minimum of 1"},
		{"boolean", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "config_drive": "maybe"}}`, "Invalid input for field/attribute config_drive. Value: maybe. 'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
		{"user_data", serverCreateSchema(minVersion),
			`{"server": {"name": "x", "flavorRef": "1", "user_data": "%%%"}}`, "Invalid input for field/attribute user_data. Value: %%%. '%%%' is not a 'base64'"},
		{"networks uuid from 2.37", v237,
			`{"server": {"name": "x", "flavorRef": "1", "networks": [{"uuid": "net1"}]}}`, "Invalid input for field/attribute networks. Value: [{'uuid': 'net1'}]. [{'uuid': 'net1'}] is not valid under any of the given schemas"},
		{"description from 2.19 only", serverCreateSchema(apiVersion{2, 18}),
			`{"server": {"name": "x", "flavorRef": "1", "description": "d"}}`, "Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'description': 'd'}. Additional properties are not allowed ('description' was unexpected)"},
		{"tags", serverCreateSchema(apiVersion{2, 52}),
			`{"server": {"name": "x", "flavorRef": "1", "tags": ["a,b"]}}`, "Invalid input for field/attribute 0. Value: a,b. 'a,b' does not match '^[^,/]*$'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := js.Decode([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := validateBody(tt.s, v)
			if got == nil || got.message != tt.want {
				t.Errorf("got %v\n want %q", got, tt.want)
			}
		})
	}
	ok, _ := js.Decode([]byte(`{"server": {"name": "x", "flavorRef": 1, "networks": "auto", "metadata": {"a b:c": "d"}}}`))
	if err := validateBody(v237, ok); err != nil {
		t.Errorf("valid body refused: %v", err)
	}
}

func TestBookmarkRoot(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:8774/v2.1":                                           "http://127.0.0.1:8774",
		"http://127.0.0.1:8774/v2.1/demo":                                      "http://127.0.0.1:8774/demo",
		"https://cloud.example/compute/v2.1/demo":                              "https://cloud.example/compute/demo",
		"https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo":         "https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo",
		"https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo/../demo": "https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo/../demo",
	}
	for in, want := range tests {
		if got := bookmarkRoot(in); got != want {
			t.Errorf("bookmarkRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGeneratedPasswords(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw := generatePassword()
		if len(pw) != 12 || seen[pw] {
			t.Fatalf("password %q", pw)
		}
		seen[pw] = true
	}
}
