package novaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Nova validates request bodies with jsonschema on the decoded Python value, and its
// messages quote that value with Python's repr (keys in document order, single quotes,
// True/False/None). To say exactly what Nova says, bodies are first decoded into these
// ordered values; the typed structs are filled from the same bytes once they validate.

// jsonObject is a JSON object that remembers the order of its keys. A repeated key keeps
// its first position and its last value, as Python's json module does.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func (o *jsonObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

func (o *jsonObject) len() int { return len(o.keys) }

// maxJSONDepth is the deepest nesting Nova's json.loads decodes: past it Python raises
// RecursionError (nova-api Zed on CPython 3.11 answers 500 from depth 890). Here deeper is
// "Malformed request body".
const maxJSONDepth = 889

// maxJSONItems bounds the values of one body. Decoding costs about 200 bytes of garbage per
// value, whatever the body's size; the bound is the most values a body of Nova's own size
// limit (oslo's max_request_body_size, 114688 bytes) can hold, "[0,0,...]", so no body Nova
// would read is refused for it, and a larger one is "too large", as Nova says of it.
const maxJSONItems = 114688 / 2

// errMalformed is a body that is not JSON at all; errTooManyItems one that holds more
// values than any body Nova accepts.
var (
	errMalformed    = errors.New("malformed JSON")
	errTooManyItems = errors.New("too many JSON values")
)

// decodeOrdered decodes one JSON document into jsonObject, []any, string, json.Number,
// bool and nil values. Anything after the document but white space is malformed, as for
// Python's json.loads. Nesting and size are checked first, in one pass that allocates
// nothing, so a body of a million brackets costs a scan of its bytes and not a million
// frames.
func decodeOrdered(data []byte) (any, error) {
	if err := checkShape(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed
	}
	return v, nil
}

// checkShape refuses a body nested deeper than maxJSONDepth (errMalformed) or with more
// than maxJSONItems values (errTooManyItems). It reads bytes only: brackets and commas
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
			if depth++; depth > maxJSONDepth {
				return errMalformed
			}
			items++
		case c == ']' || c == '}':
			depth--
		case c == ',' || c == ':':
			items++
		}
		if items > maxJSONItems {
			return errTooManyItems
		}
	}
	return nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := &jsonObject{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errMalformed
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := obj.vals[k]; !dup {
					obj.keys = append(obj.keys, k)
				}
				obj.vals[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
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
		return nil, errMalformed
	default:
		return tok, nil
	}
}

// isJSONInteger says whether a number is a Python int after json.loads: no fraction and
// no exponent.
func isJSONInteger(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// pyRepr renders a decoded JSON value as Python's repr would.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// pyStr renders a value as Python's str would: strings bare, everything else as repr.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyQuote(t))
	case json.Number:
		b.WriteString(pyNumber(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case *jsonObject:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k))
			b.WriteString(": ")
			writeRepr(b, t.vals[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(e))
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, t)
	}
}

// pyNumber is Python's repr of a JSON number: ints as written, floats in Python's
// shortest round-trip form (1.0, 1e+16, 1e-05).
func pyNumber(n json.Number) string {
	if isJSONInteger(n) {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		return strings.TrimLeft(string(n), "+")
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return string(n)
	}
	return pyFloat(f)
}

func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyQuote is Python's repr of a str.
func pyQuote(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case !pyPrintable(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyPrintable is Python's str.isprintable for one character: not a control, format,
// surrogate, private-use or unassigned character, and no separator but the plain space.
func pyPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co, unicode.Z) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
