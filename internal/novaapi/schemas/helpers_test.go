package schemas

import (
	"testing"

	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// refusal is Nova's 400 message for body under s, or "" if s accepts it.
func refusal(t *testing.T, s *js.Schema, body string) string {
	t.Helper()
	v, err := js.Decode([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if e := s.Validate(v); e != nil {
		return e.BodyMessage()
	}
	return ""
}

// queryRefusal is Nova's 400 message for a raw query under s, or "".
func queryRefusal(s *js.Schema, rawQuery string) string {
	if e := s.Validate(js.Query(rawQuery)); e != nil {
		return e.QueryMessage()
	}
	return ""
}

type bodyCase struct {
	name string
	s    *js.Schema
	body string
	want string // "" when the body is valid
}

func checkBodies(t *testing.T, cases []bodyCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(t, tt.s, tt.body); got != tt.want {
				t.Errorf("got %q\n want %q", got, tt.want)
			}
		})
	}
}
