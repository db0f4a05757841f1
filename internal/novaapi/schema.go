package novaapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A schema is the part of JSON Schema (draft 4) that Nova's request schemas use, checked
// the way Nova's jsonschema validator checks it: keywords in the order the schema lists
// them, the first error wins, and the error reads as jsonschema words it. That order is
// why a schema here is a list of keywords rather than a struct.
type schema struct {
	kws []keyword

	// Kept beside kws for additionalProperties, which looks at its siblings.
	props    []prop
	patterns []patternProp
}

type prop struct {
	name string
	s    *schema
}

type patternProp struct {
	src string
	re  *regexp.Regexp
	s   *schema
}

type keyword func(s *schema, inst any) *schemaError

// schemaError is one failed keyword: where (path from the validated root), on what, and
// jsonschema's message. invalidName carries the reason of Nova's name format checkers,
// whose message replaces the whole detail.
type schemaError struct {
	path        []any
	instance    any
	message     string
	invalidName string
}

func (e *schemaError) at(p any) *schemaError {
	e.path = append([]any{p}, e.path...)
	return e
}

func newSchema(kws ...func(*schema)) *schema {
	s := &schema{}
	for _, k := range kws {
		k(s)
	}
	return s
}

func (s *schema) validate(inst any) *schemaError {
	for _, k := range s.kws {
		if err := k(s, inst); err != nil {
			return err
		}
	}
	return nil
}

// propSchema returns the schema of a named property.
func (s *schema) propSchema(name string) *schema {
	for _, p := range s.props {
		if p.name == name {
			return p.s
		}
	}
	return nil
}

// --- keywords ---

func kwType(types ...string) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			for _, t := range types {
				if isType(inst, t) {
					return nil
				}
			}
			quoted := make([]string, len(types))
			for i, t := range types {
				quoted[i] = pyQuote(t)
			}
			return &schemaError{instance: inst, message: fmt.Sprintf("%s is not of type %s", pyRepr(inst), strings.Join(quoted, ", "))}
		})
	}
}

func isType(inst any, t string) bool {
	switch t {
	case "object":
		_, ok := inst.(*jsonObject)
		return ok
	case "array":
		_, ok := inst.([]any)
		return ok
	case "string":
		_, ok := inst.(string)
		return ok
	case "integer":
		n, ok := inst.(json.Number)
		return ok && isJSONInteger(n)
	case "number":
		_, ok := inst.(json.Number)
		return ok
	case "boolean":
		_, ok := inst.(bool)
		return ok
	case "null":
		return inst == nil
	}
	return false
}

// kwProps is "properties": each listed property present in the instance, in the schema's
// order. The list itself lives on the schema so that derived schemas can edit it.
func kwProps(ps ...prop) func(*schema) {
	return func(s *schema) {
		s.props = append(s.props, ps...)
		s.kws = append(s.kws, func(s *schema, inst any) *schemaError {
			obj, ok := inst.(*jsonObject)
			if !ok {
				return nil
			}
			for _, p := range s.props {
				if v, ok := obj.get(p.name); ok {
					if err := p.s.validate(v); err != nil {
						return err.at(p.name)
					}
				}
			}
			return nil
		})
	}
}

func kwPatternProps(src, goRE string, ps *schema) func(*schema) {
	return func(s *schema) {
		s.patterns = append(s.patterns, patternProp{src: src, re: regexp.MustCompile(goRE), s: ps})
		s.kws = append(s.kws, func(s *schema, inst any) *schemaError {
			obj, ok := inst.(*jsonObject)
			if !ok {
				return nil
			}
			for _, pp := range s.patterns {
				for _, k := range obj.keys {
					if pp.re.MatchString(k) {
						if err := pp.s.validate(obj.vals[k]); err != nil {
							return err.at(k)
						}
					}
				}
			}
			return nil
		})
	}
}

func kwRequired(names ...string) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			obj, ok := inst.(*jsonObject)
			if !ok {
				return nil
			}
			for _, n := range names {
				if _, ok := obj.get(n); !ok {
					return &schemaError{instance: inst, message: pyQuote(n) + " is a required property"}
				}
			}
			return nil
		})
	}
}

// kwNoAdditional is "additionalProperties": false.
func kwNoAdditional() func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(s *schema, inst any) *schemaError {
			obj, ok := inst.(*jsonObject)
			if !ok {
				return nil
			}
			var extras []string
			for _, k := range obj.keys {
				if s.propSchema(k) != nil {
					continue
				}
				matched := false
				for _, pp := range s.patterns {
					if pp.re.MatchString(k) {
						matched = true
						break
					}
				}
				if !matched {
					extras = append(extras, k)
				}
			}
			if len(extras) == 0 {
				return nil
			}
			if len(s.patterns) > 0 {
				sorted := slices.Clone(extras)
				sort.Strings(sorted)
				verb := "does"
				if len(sorted) > 1 {
					verb = "do"
				}
				var pats []string
				for _, pp := range s.patterns {
					pats = append(pats, pp.src)
				}
				sort.Strings(pats)
				return &schemaError{instance: inst, message: fmt.Sprintf("%s %s not match any of the regexes: %s",
					joinRepr(sorted), verb, joinRepr(pats))}
			}
			verb := "was"
			if len(extras) > 1 {
				verb = "were"
			}
			return &schemaError{instance: inst, message: fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", joinRepr(extras), verb)}
		})
	}
}

func joinRepr(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = pyQuote(s)
	}
	return strings.Join(q, ", ")
}

func kwEnum(vals ...any) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			for _, v := range vals {
				if enumEqual(inst, v) {
					return nil
				}
			}
			return &schemaError{instance: inst, message: fmt.Sprintf("%s is not one of %s", pyRepr(inst), pyRepr(vals))}
		})
	}
}

func enumEqual(inst, v any) bool {
	switch t := v.(type) {
	case string:
		s, ok := inst.(string)
		return ok && s == t
	case bool:
		b, ok := inst.(bool)
		return ok && b == t
	case nil:
		return inst == nil
	}
	return false
}

func kwMinLength(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if str, ok := inst.(string); ok && utf8.RuneCountInString(str) < n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " is too short"}
			}
			return nil
		})
	}
}

func kwMaxLength(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if str, ok := inst.(string); ok && utf8.RuneCountInString(str) > n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " is too long"}
			}
			return nil
		})
	}
}

// kwPattern checks a string against goRE with search semantics (Python's re.search);
// src is the pattern as Nova writes it, for the message.
func kwPattern(src, goRE string) func(*schema) {
	re := regexp.MustCompile(goRE)
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if str, ok := inst.(string); ok && !re.MatchString(str) {
				return &schemaError{instance: inst, message: fmt.Sprintf("%s does not match %s", pyRepr(inst), pyQuote(src))}
			}
			return nil
		})
	}
}

// kwPrintable is Nova's description pattern: printable characters only. Its message
// quotes a generated regular expression of every printable range, which is not worth
// reproducing character for character; the start of the message is the same.
func kwPrintable() func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			str, ok := inst.(string)
			if !ok {
				return nil
			}
			for _, r := range str {
				if !novaPrintable(r) {
					return &schemaError{instance: inst, message: fmt.Sprintf("%s does not match '^[printable characters]*$'", pyRepr(inst))}
				}
			}
			return nil
		})
	}
}

func kwFormat(format string) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			ok, reason := checkFormat(format, inst)
			if ok {
				return nil
			}
			return &schemaError{instance: inst, message: fmt.Sprintf("%s is not a %s", pyRepr(inst), pyQuote(format)), invalidName: reason}
		})
	}
}

func kwOneOf(subs ...*schema) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			valid := 0
			for _, sub := range subs {
				if sub.validate(inst) == nil {
					valid++
				}
			}
			switch {
			case valid == 0:
				return &schemaError{instance: inst, message: pyRepr(inst) + " is not valid under any of the given schemas"}
			case valid > 1:
				return &schemaError{instance: inst, message: pyRepr(inst) + " is valid under each of the given schemas"}
			}
			return nil
		})
	}
}

func kwAllOf(subs ...*schema) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			for _, sub := range subs {
				if err := sub.validate(inst); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// kwMinimum is Nova's minimum: numeric strings count as their number.
func kwMinimum(min float64) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			n, ok := novaNumber(inst)
			if ok && n < min {
				return &schemaError{instance: inst, message: fmt.Sprintf("%s is less than the minimum of %s", pyNumberValue(n), pyNumberValue(min))}
			}
			return nil
		})
	}
}

func pyNumberValue(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return pyFloat(f)
}

func novaNumber(inst any) (float64, bool) {
	var s string
	switch t := inst.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func kwItems(sub *schema) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			arr, ok := inst.([]any)
			if !ok {
				return nil
			}
			for i, e := range arr {
				if err := sub.validate(e); err != nil {
					return err.at(i)
				}
			}
			return nil
		})
	}
}

func kwMinItems(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if arr, ok := inst.([]any); ok && len(arr) < n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " is too short"}
			}
			return nil
		})
	}
}

func kwMaxItems(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if arr, ok := inst.([]any); ok && len(arr) > n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " is too long"}
			}
			return nil
		})
	}
}

func kwUniqueItems() func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			arr, ok := inst.([]any)
			if !ok {
				return nil
			}
			seen := map[string]bool{}
			for _, e := range arr {
				k := pyRepr(e)
				if seen[k] {
					return &schemaError{instance: inst, message: pyRepr(inst) + " has non-unique elements"}
				}
				seen[k] = true
			}
			return nil
		})
	}
}

func kwMinProps(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if obj, ok := inst.(*jsonObject); ok && obj.len() < n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " does not have enough properties"}
			}
			return nil
		})
	}
}

func kwMaxProps(n int) func(*schema) {
	return func(s *schema) {
		s.kws = append(s.kws, func(_ *schema, inst any) *schemaError {
			if obj, ok := inst.(*jsonObject); ok && obj.len() > n {
				return &schemaError{instance: inst, message: pyRepr(inst) + " has too many properties"}
			}
			return nil
		})
	}
}

// --- formats ---

const (
	nameReason    = "printable characters. Can not start or end with whitespace."
	keypairChars  = "_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	keypairReason = "Only expected characters: [" + keypairChars + "]"
)

// checkFormat is Nova's format checkers (and jsonschema's own for ipv4/ipv6). A failed
// name check returns the reason Nova puts in its InvalidName message.
func checkFormat(format string, inst any) (ok bool, invalidName string) {
	switch format {
	case "uuid":
		s, isStr := inst.(string)
		return isStr && isUUIDLike(s), ""
	case "name":
		s, isStr := inst.(string)
		if isStr && validName(s) {
			return true, ""
		}
		return false, nameReason
	case "keypair_name_20":
		s, isStr := inst.(string)
		if isStr && strings.Trim(s, keypairChars) == "" {
			return true, ""
		}
		return false, keypairReason
	case "ipv4":
		s, isStr := inst.(string)
		if !isStr {
			return true, ""
		}
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4(), ""
	case "ipv6":
		s, isStr := inst.(string)
		if !isStr {
			return true, ""
		}
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is6(), ""
	case "date-time":
		s, isStr := inst.(string)
		if !isStr {
			return false, ""
		}
		_, err := parseISOTime(s)
		return err == nil, ""
	case "base64":
		s, isStr := inst.(string)
		if !isStr {
			return false, ""
		}
		_, err := decodeBase64(s)
		return err == nil, ""
	case "regex":
		s, isStr := inst.(string)
		if !isStr || s == "" {
			return false, ""
		}
		_, err := regexp.Compile(s)
		return err == nil, ""
	}
	return true, ""
}

// isUUIDLike is oslo's is_uuid_like: any spelling uuid.UUID accepts (upper case, no
// dashes, braces, a urn: prefix).
func isUUIDLike(s string) bool {
	_, ok := uuidHex(s)
	return ok
}

func uuidHex(s string) (string, bool) {
	t := strings.ToLower(s)
	t = strings.TrimPrefix(t, "urn:")
	t = strings.TrimPrefix(t, "uuid:")
	t = strings.TrimPrefix(t, "{")
	t = strings.TrimSuffix(t, "}")
	t = strings.ReplaceAll(t, "-", "")
	if len(t) != 32 {
		return "", false
	}
	for _, c := range t {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", false
		}
	}
	return t, true
}

// canonicalUUID spells a uuid-like id as Kubernetes spells uids (lower case, dashed);
// anything else is returned as it is.
func canonicalUUID(s string) string {
	t, ok := uuidHex(s)
	if !ok {
		return s
	}
	return t[:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:]
}

// validName is Nova's valid_name_regex: printable characters of the basic multilingual
// plane, not starting or ending with white space.
func validName(s string) bool {
	if s == "" {
		return true // minLength, not the format, refuses the empty name
	}
	rs := []rune(s)
	for _, r := range rs {
		if !novaPrintable(r) {
			return false
		}
	}
	return !unicode.Is(unicode.Zs, rs[0]) && !unicode.Is(unicode.Zs, rs[len(rs)-1])
}

// novaPrintable is Nova's _is_printable over its character range (up to U+FFFF): not in a
// C category, and no separator but the space separators.
func novaPrintable(r rune) bool {
	if r > 0xFFFF {
		return false
	}
	if unicode.In(r, unicode.Zl, unicode.Zp) {
		return false
	}
	if unicode.Is(unicode.Zs, r) {
		return true
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

// --- reporting ---

// bodyError turns a schema error into Nova's 400 for a request body.
func bodyError(e *schemaError) *apiError {
	switch {
	case e.invalidName != "":
		return badRequest("An invalid 'name' value was provided. The name must be: %s", e.invalidName)
	case len(e.path) > 0:
		return badRequest("Invalid input for field/attribute %s. Value: %s. %s",
			pathElem(e.path[len(e.path)-1]), pyStr(e.instance), e.message)
	}
	return badRequest("%s", e.message)
}

// queryError turns a schema error into Nova's 400 for query parameters.
func queryError(e *schemaError) *apiError {
	if len(e.path) > 0 {
		return badRequest("Invalid input for query parameters %s. Value: %s. %s",
			pathElem(e.path[0]), pyStr(e.instance), e.message)
	}
	return badRequest("%s", e.message)
}

func pathElem(p any) string {
	if i, ok := p.(int); ok {
		return strconv.Itoa(i)
	}
	return fmt.Sprint(p)
}

// validateBody checks a decoded body against s.
func validateBody(s *schema, body any) *apiError {
	if err := s.validate(body); err != nil {
		return bodyError(err)
	}
	return nil
}

// queryObject is the query string as Nova's query validators see it: each parameter a
// list of its values, parameters in order of first appearance.
func queryObject(r *http.Request) *jsonObject {
	obj := &jsonObject{vals: map[string]any{}}
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := urlUnescape(k)
		if err != nil {
			continue
		}
		val, err := urlUnescape(v)
		if err != nil {
			continue
		}
		cur, ok := obj.vals[key]
		if !ok {
			obj.keys = append(obj.keys, key)
			cur = []any{}
		}
		obj.vals[key] = append(cur.([]any), val)
	}
	return obj
}

// validateQuery checks the query string against s.
func validateQuery(s *schema, r *http.Request) *apiError {
	if err := s.validate(queryObject(r)); err != nil {
		return queryError(err)
	}
	return nil
}
