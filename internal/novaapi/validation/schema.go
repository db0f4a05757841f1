package validation

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Schema is the part of JSON Schema (draft 4) that Nova's request schemas use, checked
// the way Nova's jsonschema validator checks it: keywords in the order the schema lists
// them, the first error wins, and the error reads as jsonschema words it. That order is
// why a schema here is a list of keywords rather than a struct.
type Schema struct {
	checks []check

	// Kept beside checks for additionalProperties, which looks at its siblings.
	props    []Prop
	patterns []patternProp
}

// Prop is one entry of "properties".
type Prop struct {
	Name   string
	Schema *Schema
}

// P is the property name with schema s.
func P(name string, s *Schema) Prop { return Prop{Name: name, Schema: s} }

type patternProp struct {
	src string
	re  *regexp.Regexp
	s   *Schema
}

// A Keyword adds one JSON Schema keyword to a schema being built.
type Keyword func(*Schema)

type check func(s *Schema, inst any) *Error

// New is the schema of these keywords, checked in this order.
func New(kws ...Keyword) *Schema {
	s := &Schema{}
	for _, k := range kws {
		k(s)
	}
	return s
}

func (s *Schema) add(c check) { s.checks = append(s.checks, c) }

// Validate checks a decoded value (see Decode) and returns the first failure, or nil.
func (s *Schema) Validate(inst any) *Error {
	for _, c := range s.checks {
		if err := c(s, inst); err != nil {
			return err
		}
	}
	return nil
}

// Property is the schema of a named property, or nil if the schema lists none.
func (s *Schema) Property(name string) *Schema {
	for _, p := range s.props {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

func fail(inst any, format string, args ...any) *Error {
	return &Error{Instance: inst, Message: fmt.Sprintf(format, args...)}
}

// --- keywords ---

// Type is "type": one of these JSON types ("object", "array", "string", "integer",
// "number", "boolean", "null").
func Type(types ...string) Keyword {
	quoted := quoteAll(types)
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			for _, t := range types {
				if isType(inst, t) {
					return nil
				}
			}
			return fail(inst, "%s is not of type %s", Repr(inst), quoted)
		})
	}
}

func isType(inst any, t string) bool {
	switch t {
	case "object":
		_, ok := inst.(*Object)
		return ok
	case "array":
		_, ok := inst.([]any)
		return ok
	case "string":
		_, ok := inst.(string)
		return ok
	case "integer":
		n, ok := inst.(json.Number)
		return ok && IsInteger(n)
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

// Properties is "properties": each listed property present in the instance, in the
// schema's order.
func Properties(ps ...Prop) Keyword {
	return func(s *Schema) {
		s.props = append(s.props, ps...)
		s.add(func(s *Schema, inst any) *Error {
			obj, ok := inst.(*Object)
			if !ok {
				return nil
			}
			for _, p := range s.props {
				if v, ok := obj.Get(p.Name); ok {
					if err := p.Schema.Validate(v); err != nil {
						return err.at(p.Name)
					}
				}
			}
			return nil
		})
	}
}

// PatternProperties is "patternProperties" with one pattern: src as Nova writes it (for
// messages), goRE as Go's regexp spells it.
func PatternProperties(src, goRE string, ps *Schema) Keyword {
	return func(s *Schema) {
		s.patterns = append(s.patterns, patternProp{src: src, re: regexp.MustCompile(goRE), s: ps})
		s.add(func(s *Schema, inst any) *Error {
			obj, ok := inst.(*Object)
			if !ok {
				return nil
			}
			for _, pp := range s.patterns {
				for _, k := range obj.keys {
					if !pp.re.MatchString(k) {
						continue
					}
					if err := pp.s.Validate(obj.vals[k]); err != nil {
						return err.at(k)
					}
				}
			}
			return nil
		})
	}
}

// Required is "required".
func Required(names ...string) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			obj, ok := inst.(*Object)
			if !ok {
				return nil
			}
			for _, n := range names {
				if _, ok := obj.Get(n); !ok {
					return fail(inst, "%s is a required property", Quote(n))
				}
			}
			return nil
		})
	}
}

// NoAdditionalProperties is "additionalProperties": false. It sees the properties and
// pattern properties of the whole schema, wherever they are listed.
func NoAdditionalProperties() Keyword {
	return func(s *Schema) {
		s.add(func(s *Schema, inst any) *Error {
			obj, ok := inst.(*Object)
			if !ok {
				return nil
			}
			extras := s.extras(obj)
			switch {
			case len(extras) == 0:
				return nil
			case len(s.patterns) > 0:
				return s.noPatternMatch(inst, extras)
			case len(extras) == 1:
				return fail(inst, "Additional properties are not allowed (%s was unexpected)", quoteAll(extras))
			}
			return fail(inst, "Additional properties are not allowed (%s were unexpected)", quoteAll(extras))
		})
	}
}

// extras are the object's keys that no property and no pattern names, in document order.
func (s *Schema) extras(obj *Object) []string {
	var extras []string
	for _, k := range obj.keys {
		if s.Property(k) == nil && !slices.ContainsFunc(s.patterns, func(pp patternProp) bool { return pp.re.MatchString(k) }) {
			extras = append(extras, k)
		}
	}
	return extras
}

// noPatternMatch is jsonschema's message when a schema has pattern properties: the
// extras and the patterns, each sorted.
func (s *Schema) noPatternMatch(inst any, extras []string) *Error {
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
	return fail(inst, "%s %s not match any of the regexes: %s", quoteAll(sorted), verb, quoteAll(pats))
}

// Enum is "enum" over strings, booleans and null.
func Enum(vals ...any) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			for _, v := range vals {
				if enumEqual(inst, v) {
					return nil
				}
			}
			return fail(inst, "%s is not one of %s", Repr(inst), Repr(vals))
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

// MinLength is "minLength", in characters.
func MinLength(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if str, ok := inst.(string); ok && utf8.RuneCountInString(str) < n {
				return fail(inst, "%s is too short", Repr(inst))
			}
			return nil
		})
	}
}

// MaxLength is "maxLength", in characters.
func MaxLength(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if str, ok := inst.(string); ok && utf8.RuneCountInString(str) > n {
				return fail(inst, "%s is too long", Repr(inst))
			}
			return nil
		})
	}
}

// Pattern checks a string against goRE with search semantics (Python's re.search);
// src is the pattern as Nova writes it, for the message.
func Pattern(src, goRE string) Keyword {
	re := regexp.MustCompile(goRE)
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if str, ok := inst.(string); ok && !re.MatchString(str) {
				return fail(inst, "%s does not match %s", Repr(inst), Quote(src))
			}
			return nil
		})
	}
}

// Printable is Nova's description pattern: printable characters only. Its message
// quotes a generated regular expression of every printable range, which is not worth
// reproducing character for character; the start of the message is the same.
func Printable() Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			str, ok := inst.(string)
			if !ok {
				return nil
			}
			for _, r := range str {
				if !IsPrintable(r) {
					return fail(inst, "%s does not match '^[printable characters]*$'", Repr(inst))
				}
			}
			return nil
		})
	}
}

// Format is "format" with Nova's format checkers (see CheckFormat).
func Format(format string) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			ok, reason := CheckFormat(format, inst)
			if ok {
				return nil
			}
			e := fail(inst, "%s is not a %s", Repr(inst), Quote(format))
			e.InvalidName = reason
			return e
		})
	}
}

// OneOf is "oneOf": valid under exactly one of subs.
func OneOf(subs ...*Schema) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			valid := 0
			for _, sub := range subs {
				if sub.Validate(inst) == nil {
					valid++
				}
			}
			switch {
			case valid == 0:
				return fail(inst, "%s is not valid under any of the given schemas", Repr(inst))
			case valid > 1:
				return fail(inst, "%s is valid under each of the given schemas", Repr(inst))
			}
			return nil
		})
	}
}

// AllOf is "allOf": the first sub-schema's failure is the error.
func AllOf(subs ...*Schema) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			for _, sub := range subs {
				if err := sub.Validate(inst); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// Minimum is Nova's minimum: numeric strings count as their number (Nova's validator
// converts them before jsonschema looks).
func Minimum(min float64) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			n, ok := novaNumber(inst)
			if ok && n < min {
				return fail(inst, "%s is less than the minimum of %s", pyNumberValue(n), pyNumberValue(min))
			}
			return nil
		})
	}
}

// Maximum is jsonschema's maximum, read as Minimum reads numbers.
func Maximum(max float64) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			n, ok := novaNumber(inst)
			if ok && n > max {
				return fail(inst, "%s is greater than the maximum of %s", pyNumberValue(n), pyNumberValue(max))
			}
			return nil
		})
	}
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

// Items is "items" with one schema for every element.
func Items(sub *Schema) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			arr, ok := inst.([]any)
			if !ok {
				return nil
			}
			for i, e := range arr {
				if err := sub.Validate(e); err != nil {
					return err.at(i)
				}
			}
			return nil
		})
	}
}

// MinItems is "minItems".
func MinItems(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if arr, ok := inst.([]any); ok && len(arr) < n {
				return fail(inst, "%s is too short", Repr(inst))
			}
			return nil
		})
	}
}

// MaxItems is "maxItems".
func MaxItems(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if arr, ok := inst.([]any); ok && len(arr) > n {
				return fail(inst, "%s is too long", Repr(inst))
			}
			return nil
		})
	}
}

// UniqueItems is "uniqueItems": true.
func UniqueItems() Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			arr, ok := inst.([]any)
			if !ok {
				return nil
			}
			seen := map[string]bool{}
			for _, e := range arr {
				k := Repr(e)
				if seen[k] {
					return fail(inst, "%s has non-unique elements", Repr(inst))
				}
				seen[k] = true
			}
			return nil
		})
	}
}

// MinProperties is "minProperties".
func MinProperties(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if obj, ok := inst.(*Object); ok && obj.Len() < n {
				return fail(inst, "%s does not have enough properties", Repr(inst))
			}
			return nil
		})
	}
}

// MaxProperties is "maxProperties".
func MaxProperties(n int) Keyword {
	return func(s *Schema) {
		s.add(func(_ *Schema, inst any) *Error {
			if obj, ok := inst.(*Object); ok && obj.Len() > n {
				return fail(inst, "%s has too many properties", Repr(inst))
			}
			return nil
		})
	}
}
