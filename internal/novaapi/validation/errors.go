package validation

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Error is one failed keyword: where (path from the validated root), on what, and
// jsonschema's message. InvalidName carries the reason of Nova's name format checkers,
// whose message replaces the whole detail.
type Error struct {
	Path        []any // property names (string) and array indexes (int)
	Instance    any
	Message     string
	InvalidName string
}

func (e *Error) at(p any) *Error {
	e.Path = append([]any{p}, e.Path...)
	return e
}

func (e *Error) Error() string { return e.Message }

// BodyMessage is Nova's 400 message for a request body that failed validation
// (nova/api/validation/validators.py).
func (e *Error) BodyMessage() string {
	switch {
	case e.InvalidName != "":
		return "An invalid 'name' value was provided. The name must be: " + e.InvalidName
	case len(e.Path) > 0:
		return fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s",
			pathElem(e.Path[len(e.Path)-1]), Str(e.Instance), e.Message)
	}
	return e.Message
}

// QueryMessage is Nova's 400 message for query parameters that failed validation: it
// names the parameter, the first element of the path.
func (e *Error) QueryMessage() string {
	if len(e.Path) > 0 {
		return fmt.Sprintf("Invalid input for query parameters %s. Value: %s. %s",
			pathElem(e.Path[0]), Str(e.Instance), e.Message)
	}
	return e.Message
}

func pathElem(p any) string {
	if i, ok := p.(int); ok {
		return strconv.Itoa(i)
	}
	return fmt.Sprint(p)
}

// Query is a raw query string as Nova's query validators see it: each parameter a list
// of its values, parameters in order of first appearance. A pair that does not unescape
// is left out.
func Query(rawQuery string) *Object {
	obj := NewObject()
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		cur, _ := obj.Get(key)
		vals, _ := cur.([]any)
		obj.Set(key, append(vals, val))
	}
	return obj
}
