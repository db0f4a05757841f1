package views

import "encoding/json"

// Opt is a field that Nova shows as a value, shows as null, or leaves out. The zero Opt
// is left out (with the omitzero option); Null and Some show it.
type Opt[T any] struct {
	set bool
	v   *T
}

// Null is a field shown as null.
func Null[T any]() Opt[T] { return Opt[T]{set: true} }

// Some is a field shown with value v.
func Some[T any](v T) Opt[T] { return Opt[T]{set: true, v: &v} }

// OrNull is s, or null when s is empty.
func OrNull(s string) Opt[string] {
	if s == "" {
		return Null[string]()
	}
	return Some(s)
}

// IsZero says the field is left out (encoding/json's omitzero asks).
func (o Opt[T]) IsZero() bool { return !o.set }

// Value is the field's value and whether it has one (not null, not left out).
func (o Opt[T]) Value() (T, bool) {
	if o.v == nil {
		var zero T
		return zero, false
	}
	return *o.v, true
}

// MarshalJSON writes the value, or null.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if o.v == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*o.v)
}
