package validation

import (
	"strings"
	"testing"
)

// A test of one keyword: the schema, a body that passes and one that fails with
// jsonschema's words (as Nova's 400 for a body quotes them).
type keywordCase struct {
	name     string
	s        *Schema
	ok, bad  string
	message  string // the failure's Message
	body     string // the failure's BodyMessage, if it says more than Message
	noPrefix bool   // message is a prefix only (see oneOf)
}

func obj(kws ...Keyword) *Schema { return New(append([]Keyword{Type("object")}, kws...)...) }

var (
	str         = New(Type("string"))
	patternVals = New(Type("string"), MaxLength(3))
)

// keywordCases covers every keyword Nova's schemas use.
var keywordCases = []keywordCase{
	{name: "type", s: New(Type("string", "integer")), ok: `1`, bad: `1.5`,
		message: "1.5 is not of type 'string', 'integer'"},
	{name: "type integer refuses a float that holds an int", s: New(Type("integer")), ok: `-3`, bad: `3.0`,
		message: "3.0 is not of type 'integer'"},
	{name: "type number", s: New(Type("number")), ok: `1e3`, bad: `"1"`, message: "'1' is not of type 'number'"},
	{name: "type boolean", s: New(Type("boolean")), ok: `false`, bad: `0`, message: "0 is not of type 'boolean'"},
	{name: "type null", s: New(Type("null")), ok: `null`, bad: `{}`, message: "{} is not of type 'null'"},
	{name: "type array", s: New(Type("array")), ok: `[]`, bad: `"[]"`, message: "'[]' is not of type 'array'"},
	{name: "properties names the property", s: obj(Properties(P("name", str))), ok: `{"name": "x", "other": 1}`,
		bad: `{"name": 1}`, message: "1 is not of type 'string'",
		body: "Invalid input for field/attribute name. Value: 1. 1 is not of type 'string'"},
	{name: "properties in the schema's order, not the body's", s: obj(Properties(P("a", str), P("b", str))),
		ok: `{"b": "", "a": ""}`, bad: `{"b": 1, "a": 2}`, message: "2 is not of type 'string'",
		body: "Invalid input for field/attribute a. Value: 2. 2 is not of type 'string'"},
	{name: "patternProperties", s: obj(PatternProperties("^[a-z]+$", "^[a-z]+$", patternVals)),
		ok: `{"ab": "x", "A": 1}`, bad: `{"ab": "long"}`, message: "'long' is too long",
		body: "Invalid input for field/attribute ab. Value: long. 'long' is too long"},
	{name: "required", s: obj(Required("name", "flavorRef")), ok: `{"name": 1, "flavorRef": 2}`,
		bad: `{"name": 1}`, message: "'flavorRef' is a required property"},
	{name: "additionalProperties one", s: obj(Properties(P("a", str)), NoAdditionalProperties()), ok: `{"a": ""}`,
		bad: `{"a": "", "x": 1}`, message: "Additional properties are not allowed ('x' was unexpected)"},
	{name: "additionalProperties several, in the body's order", s: obj(Properties(P("a", str)), NoAdditionalProperties()),
		ok: `{}`, bad: `{"z": 1, "a": "", "b": 2}`, message: "Additional properties are not allowed ('z', 'b' were unexpected)"},
	{name: "additionalProperties with patterns", s: obj(PatternProperties("^[a-z]+$", "^[a-z]+$", str), NoAdditionalProperties()),
		ok: `{"ab": "x"}`, bad: `{"ab": "x", "B": "", "A": ""}`, message: "'A', 'B' do not match any of the regexes: '^[a-z]+$'"},
	{name: "additionalProperties with patterns, one", s: obj(PatternProperties("^[a-z]+$", "^[a-z]+$", str), NoAdditionalProperties()),
		ok: `{}`, bad: `{"a b": ""}`, message: "'a b' does not match any of the regexes: '^[a-z]+$'"},
	{name: "enum", s: New(Enum("HARD", "SOFT", true, nil)), ok: `null`, bad: `"hard"`,
		message: "'hard' is not one of ['HARD', 'SOFT', True, None]"},
	{name: "enum does not take 1 for true", s: New(Enum(true)), ok: `true`, bad: `1`, message: "1 is not one of [True]"},
	{name: "minLength counts characters", s: New(MinLength(2)), ok: `"é!"`, bad: `"é"`, message: "'é' is too short"},
	{name: "maxLength counts characters", s: New(MaxLength(2)), ok: `"éé"`, bad: `"ééé"`, message: "'ééé' is too long"},
	{name: "maxLength 0", s: New(MaxLength(0)), ok: `""`, bad: `"x"`, message: "'x' is too long"},
	{name: "pattern searches", s: New(Pattern("^[^,/]*$", "^[^,/]*$")), ok: `"a b"`, bad: `"a,b"`,
		message: "'a,b' does not match '^[^,/]*$'"},
	{name: "printable", s: New(Printable()), ok: `"a b é"`, bad: `"a\u0007"`,
		message: "'a\\x07' does not match '^[printable characters]*$'"},
	{name: "format uuid", s: New(Format("uuid")), ok: `"6B1C2A5E3F0D4C8E9A470E5C3B1D2F10"`, bad: `"cirros"`,
		message: "'cirros' is not a 'uuid'"},
	{name: "format name: Nova's InvalidName", s: New(Type("string"), Format("name")), ok: `"web 1"`, bad: `" web"`,
		message: "' web' is not a 'name'",
		body:    "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
	{name: "format keypair_name_20", s: New(Format("keypair_name_20")), ok: `"my key-1_a"`, bad: `"key.pub"`,
		message: "'key.pub' is not a 'keypair_name_20'",
		body:    "An invalid 'name' value was provided. The name must be: Only expected characters: [_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]"},
	{name: "format ipv4", s: New(Format("ipv4")), ok: `"10.0.0.1"`, bad: `"::1"`, message: "'::1' is not a 'ipv4'"},
	{name: "format ipv6", s: New(Format("ipv6")), ok: `"::1"`, bad: `"10.0.0.1"`, message: "'10.0.0.1' is not a 'ipv6'"},
	{name: "format ip on a non-string passes", s: New(Format("ipv4")), ok: `1`, bad: `"1.2.3"`, message: "'1.2.3' is not a 'ipv4'"},
	{name: "format date-time", s: New(Format("date-time")), ok: `"2026-11-22T12:36:40Z"`, bad: `"yesterday"`,
		message: "'yesterday' is not a 'date-time'"},
	{name: "format base64", s: New(Format("base64")), ok: `"aGk=\n"`, bad: `"%%%"`, message: "'%%%' is not a 'base64'"},
	{name: "format regex", s: New(Format("regex")), ok: `"^web-[0-9]+"`, bad: `"("`, message: "'(' is not a 'regex'"},
	{name: "format regex refuses the empty one", s: New(Format("regex")), ok: `"."`, bad: `""`, message: "'' is not a 'regex'"},
	{name: "oneOf none", s: New(OneOf(New(Type("string")), New(Type("null")))), ok: `null`, bad: `1`,
		message: "1 is not valid under any of the given schemas"},
	// jsonschema goes on to list the schemas that matched, as Python dicts; the start is
	// the same.
	{name: "oneOf several", s: New(OneOf(New(Type("string")), New(MaxLength(1)))), ok: `"ab"`, bad: `"a"`,
		message: "'a' is valid under each of", noPrefix: true},
	{name: "allOf: the first failure", s: New(AllOf(New(MinLength(2)), New(MaxLength(1)))), ok: `5`, bad: `"a"`,
		message: "'a' is too short"},
	{name: "minimum", s: New(Minimum(1)), ok: `1`, bad: `0`, message: "0 is less than the minimum of 1"},
	{name: "minimum: a numeric string counts as its number", s: New(Minimum(1)), ok: `" 2 "`, bad: `"0"`,
		message: "0 is less than the minimum of 1"},
	{name: "minimum of a float", s: New(Minimum(0)), ok: `"x"`, bad: `-0.5`, message: "-0.5 is less than the minimum of 0"},
	{name: "items names the index", s: New(Items(str)), ok: `["a"]`, bad: `["a", 2]`, message: "2 is not of type 'string'",
		body: "Invalid input for field/attribute 1. Value: 2. 2 is not of type 'string'"},
	{name: "minItems", s: New(MinItems(1)), ok: `[1]`, bad: `[]`, message: "[] is too short"},
	{name: "maxItems", s: New(MaxItems(1)), ok: `[1]`, bad: `[1, 2]`, message: "[1, 2] is too long"},
	{name: "uniqueItems", s: New(UniqueItems()), ok: `["a", "b"]`, bad: `["a", "a"]`, message: "['a', 'a'] has non-unique elements"},
	{name: "minProperties", s: New(MinProperties(1)), ok: `{"a": 1}`, bad: `{}`, message: "{} does not have enough properties"},
	{name: "maxProperties", s: New(MaxProperties(1)), ok: `{"a": 1}`, bad: `{"a": 1, "b": 2}`,
		message: "{'a': 1, 'b': 2} has too many properties"},
	{name: "keywords in the schema's order", s: New(Type("string"), MaxLength(1), Pattern("^a", "^a")), ok: `"a"`, bad: `"bb"`,
		message: "'bb' is too long"},
}

func TestKeywords(t *testing.T) {
	for _, tt := range keywordCases {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(decode(t, tt.ok)); err != nil {
				t.Errorf("%s refused: %s", tt.ok, err.BodyMessage())
			}
			err := tt.s.Validate(decode(t, tt.bad))
			switch {
			case err == nil:
				t.Fatalf("%s passed", tt.bad)
			case tt.noPrefix && !strings.HasPrefix(err.Message, tt.message):
				t.Errorf("message %q, want it to start with %q", err.Message, tt.message)
			case !tt.noPrefix && err.Message != tt.message:
				t.Errorf("message %q\n want %q", err.Message, tt.message)
			}
			want := tt.body
			if want == "" {
				want = tt.message
			}
			if got := err.BodyMessage(); !tt.noPrefix && got != want {
				t.Errorf("body message %q\n want %q", got, want)
			}
		})
	}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// TestNestedMessages: a failure deep in a body names the last step of its path and
// quotes the value there; a query's names the parameter.
func TestNestedMessages(t *testing.T) {
	server := obj(Properties(P("networks", New(Type("array"), Items(obj(Properties(P("uuid", str)), NoAdditionalProperties()))))))
	body := obj(Properties(P("server", server)), Required("server"), NoAdditionalProperties())
	tests := []struct{ body, want string }{
		{`{"server": {"networks": [{"uuid": "u", "foo": 1}]}}`,
			"Invalid input for field/attribute 0. Value: {'uuid': 'u', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
		{`{"server": {"networks": [{"uuid": 7}]}}`, "Invalid input for field/attribute uuid. Value: 7. 7 is not of type 'string'"},
		{`{"server": {"networks": {}}}`, "Invalid input for field/attribute networks. Value: {}. {} is not of type 'array'"},
		{`{"x": 1}`, "'server' is a required property"},
		{`[]`, "[] is not of type 'object'"},
	}
	for _, tt := range tests {
		err := body.Validate(decode(t, tt.body))
		if err == nil || err.BodyMessage() != tt.want {
			t.Errorf("%s: got %v\n want %q", tt.body, err, tt.want)
		}
	}

	query := obj(Properties(P("limit", New(Type("array"), Items(New(Type("string"), Pattern("^[0-9]*$", "^[0-9]*$")))))),
		NoAdditionalProperties())
	q := Query("limit=1&name=web%201&limit=x&bad=%zz&flag")
	if got := Repr(q); got != "{'limit': ['1', 'x'], 'name': ['web 1'], 'flag': ['']}" {
		t.Errorf("query = %s", got)
	}
	err := query.Validate(q)
	if want := "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"; err == nil || err.QueryMessage() != want {
		t.Errorf("query: got %v\n want %q", err, want)
	}
	err = query.Validate(Query("name=a"))
	if want := "Additional properties are not allowed ('name' was unexpected)"; err == nil || err.QueryMessage() != want {
		t.Errorf("query: got %v\n want %q", err, want)
	}
	if query.Property("limit") == nil || query.Property("name") != nil {
		t.Error("Property does not find what the schema lists")
	}
}
