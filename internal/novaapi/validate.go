package novaapi

import (
	"net/http"

	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// validateBody checks a decoded body against s: a failure is Nova's 400 for a body.
func validateBody(s *js.Schema, body any) *apiError {
	if err := s.Validate(body); err != nil {
		return badRequest("%s", err.BodyMessage())
	}
	return nil
}

// queryObject is the query string as Nova's query validators see it.
func queryObject(r *http.Request) *js.Object { return js.Query(r.URL.RawQuery) }

// validateQuery checks the query string against s: a failure is Nova's 400 for a query.
func validateQuery(s *js.Schema, r *http.Request) *apiError {
	if err := s.Validate(queryObject(r)); err != nil {
		return badRequest("%s", err.QueryMessage())
	}
	return nil
}
