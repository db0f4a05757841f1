package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// Nova validates request bodies with jsonschema on the decoded Python value, and its
// messages quote that value with Python's repr (keys in document order, single quotes,
// True/False/None). To say exactly what Nova says, bodies are first decoded into these
// ordered values; the typed structs are filled from the same bytes once they validate.

// Object is a JSON object that remembers the order of its keys. A repeated key keeps
// its first position and its last value, as Python's json module does.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject is an empty Object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Get is the value of key k, if present.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Set sets k to v; a new key goes last, an existing one keeps its place.
func (o *Object) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Keys are the object's keys in document order. The slice is the object's own: do not
// modify it.
func (o *Object) Keys() []string { return o.keys }

// Len is the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// MaxBodyDepth is the deepest nesting Nova's json.loads decodes: past it Python raises
// RecursionError (nova-api Zed on CPython 3.11 answers 500 from depth 890). Here deeper is
// "Malformed request body".
const MaxBodyDepth = 889

// MaxBodyValues bounds the values of one body. Decoding costs about 200 bytes of garbage per
// value, whatever the body's size; the bound is the most values a body of Nova's own size
// limit (oslo's max_request_body_size, 114688 bytes) can hold, "[0,0,...]", so no body Nova
// would read is refused for it, and a larger one is "too large", as Nova says of it.
const MaxBodyValues = 114688 / 2

// ErrMalformed is a body that is not JSON at all; ErrTooManyItems one that holds more
// values than any body Nova accepts.
var (
	ErrMalformed    = errors.New("malformed JSON")
	ErrTooManyItems = errors.New("too many JSON values")
)

// Decode decodes one JSON document into *Object, []any, string, json.Number, bool and
// nil values. Anything after the document but white space is malformed, as for Python's
// json.loads. Nesting and size are checked first, in one pass that allocates nothing, so
// a body of a million brackets costs a scan of its bytes and not a million frames.
func Decode(data []byte) (any, error) {
	if err := checkShape(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, ErrMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ErrMalformed
	}
	return v, nil
}

// checkShape refuses a body nested deeper than MaxBodyDepth (ErrMalformed) or with more
// than MaxBodyValues values (ErrTooManyItems). It reads bytes only: brackets and commas
// inside strings do not count, and whether data is JSON at all is the decoder's question.
// Every value but the first follows an opening bracket, a comma or a colon, so counting
// those bounds the values from above.
func checkShape(data []byte) error {
	depth, items := 0, 1
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > MaxBodyDepth {
				return ErrMalformed
			}
			items++
		case c == ']' || c == '}':
			depth--
		case c == ',' || c == ':':
			items++
		}
		if items > MaxBodyValues {
			return ErrTooManyItems
		}
	}
	return nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		return decodeObject(dec)
	case json.Delim('['):
		return decodeArray(dec)
	case json.Delim('}'), json.Delim(']'):
		return nil, ErrMalformed
	}
	return tok, nil
}

func decodeObject(dec *json.Decoder) (*Object, error) {
	obj := NewObject()
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := kt.(string)
		if !ok {
			return nil, ErrMalformed
		}
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		obj.Set(k, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return obj, nil
}

func decodeArray(dec *json.Decoder) ([]any, error) {
	arr := []any{}
	for dec.More() {
		v, err := decodeValue(dec)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return arr, nil
}

// IsInteger says whether a number is a Python int after json.loads: no fraction and no
// exponent.
func IsInteger(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}
