package validation

import "testing"

func TestRepr(t *testing.T) {
	tests := []struct{ json, repr string }{
		{`{"name": "x"}`, `{'name': 'x'}`},
		{`{"b": 1, "a": [true, false, null, 1.5, 1.0, 1e16, 0.00001]}`, `{'b': 1, 'a': [True, False, None, 1.5, 1.0, 1e+16, 1e-05]}`},
		{`"it's"`, `"it's"`},
		{`"a\"b'c"`, `'a"b\'c'`},
		{`"tab\there\n"`, `'tab\there\n'`},
		{`"\u0001\u007f\u00a0\u2028\ue000"`, `'\x01\x7f\xa0\u2028\ue000'`},
		{`"ünï 😀"`, `'ünï 😀'`},
		{`{"dup": 1, "x": 2, "dup": 3}`, `{'dup': 3, 'x': 2}`},
		{`100000`, `100000`},
		{`-0`, `0`},
		{`99999999999999999999`, `99999999999999999999`},
		{`1000000.0`, `1000000.0`},
		{`1e400`, `inf`},
		{`[]`, `[]`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		v, err := Decode([]byte(tt.json))
		if err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		if got := Repr(v); got != tt.repr {
			t.Errorf("repr(%s) = %s, want %s", tt.json, got, tt.repr)
		}
	}
	if got := Str("bare"); got != "bare" {
		t.Errorf("str of a string = %s", got)
	}
	if got := Repr([]string{"a", "b"}); got != "['a', 'b']" {
		t.Errorf("repr of a list of strings = %s", got)
	}
	for _, bad := range []string{`{`, `{"a": 1} x`, `{"a": 1,}`, ``, `[1,]`, `{1: 2}`, `]`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestObject(t *testing.T) {
	o := NewObject()
	o.Set("b", 1)
	o.Set("a", 2)
	o.Set("b", 3)
	if got := Repr(o); got != "{'b': 3, 'a': 2}" || o.Len() != 2 {
		t.Errorf("object = %s (%d keys)", got, o.Len())
	}
	if v, ok := o.Get("a"); !ok || v != 2 {
		t.Errorf("Get(a) = %v, %v", v, ok)
	}
	if _, ok := o.Get("c"); ok {
		t.Error("Get(c) found")
	}
}
