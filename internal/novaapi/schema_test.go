package novaapi

import (
	"testing"
	"time"
)

func TestPyRepr(t *testing.T) {
	tests := []struct{ json, repr string }{
		{`{"name": "x"}`, `{'name': 'x'}`},
		{`{"b": 1, "a": [true, false, null, 1.5, 1.0, 1e16, 0.00001]}`, `{'b': 1, 'a': [True, False, None, 1.5, 1.0, 1e+16, 1e-05]}`},
		{`"it's"`, `"it's"`},
		{`"a\"b'c"`, `'a"b\'c'`},
		{`"tab\there\n"`, `'tab\there\n'`},
		{`"ünï"`, `'ünï'`},
		{`{"dup": 1, "x": 2, "dup": 3}`, `{'dup': 3, 'x': 2}`},
		{`100000`, `100000`},
		{`1000000.0`, `1000000.0`},
	}
	for _, tt := range tests {
		v, err := decodeOrdered([]byte(tt.json))
		if err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		if got := pyRepr(v); got != tt.repr {
			t.Errorf("repr(%s) = %s, want %s", tt.json, got, tt.repr)
		}
	}
	for _, bad := range []string{`{`, `{"a": 1} x`, `{"a": 1,}`, ``, `[1,]`} {
		if _, err := decodeOrdered([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestSchemaMessages(t *testing.T) {
	v237 := serverCreateSchema(apiVersion{2, 37})
	tests := []struct {
		name string
		s    *schema
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
			v, err := decodeOrdered([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := validateBody(tt.s, v)
			if got == nil || got.message != tt.want {
				t.Errorf("got %v\n want %q", got, tt.want)
			}
		})
	}
	ok, _ := decodeOrdered([]byte(`{"server": {"name": "x", "flavorRef": 1, "networks": "auto", "metadata": {"a b:c": "d"}}}`))
	if err := validateBody(v237, ok); err != nil {
		t.Errorf("valid body refused: %v", err)
	}
}

func TestFormats(t *testing.T) {
	for _, s := range []string{imageUID, "6B1C2A5E3F0D4C8E9A470E5C3B1D2F10", "{6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10}", "urn:uuid:6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10"} {
		if !isUUIDLike(s) {
			t.Errorf("%q not uuid-like", s)
		}
	}
	for _, s := range []string{"", "cirros", imageUID + "0"} {
		if isUUIDLike(s) {
			t.Errorf("%q uuid-like", s)
		}
	}
	for s, ok := range map[string]bool{"web 1": true, " web": false, "web\t": false, "wéb": true, "a\u2028b": false, "\U0001F600": false} {
		if validName(s) != ok {
			t.Errorf("validName(%q) = %v", s, !ok)
		}
	}
	times := map[string]time.Time{
		"2026-11-22T12:36:40Z":             base,
		"2026-11-22T12:36:40":              base,
		"2026-11-22T12:36:40.000000":       base,
		"2026-11-22T13:36:40+01:00":        base,
		"2026-11-22T12:36:40.5Z":           base.Add(500 * time.Millisecond),
		"2026-11-22":                       time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		"2026-11-22 12:36:40":              base,
		"2026-11-22T10:36:40.000000-02:00": base,
	}
	for s, want := range times {
		got, err := parseISOTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseISOTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "2026-02-30T00:00:00Z"} {
		if _, err := parseISOTime(bad); err == nil {
			t.Errorf("parseISOTime(%q) accepted", bad)
		}
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
