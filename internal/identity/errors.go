package identity

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Keystone's messages.
const (
	msgUnauthorized    = "The request you have made requires authentication."
	msgNotFound        = "The resource could not be found."
	msgTokenNotFound   = "Failed to validate token"
	msgNoMethod        = "The method is not allowed for the requested URL."
	msgTooLarge        = "Request is too large."
	msgClientError     = "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
	msgMalformed       = "Expecting to find valid JSON in request body. " + msgClientError
	msgInternal        = "An unexpected error prevented the server from fulfilling your request."
	tooManyFailures    = "Too many failed logins: wait before trying again."
	msgUnscopedCatalog = "You are not authorized to perform the requested action: a project-scoped token is required to read the catalog."
)

var titles = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
	413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
}

// writeError writes Keystone's error body: {"error": {"code", "title", "message"}}; a 401
// also names the identity service to authenticate with, as Keystone's WWW-Authenticate.
func (s *Service) writeError(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.cfg.Endpoint+`/identity"`)
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "title": titles[code], "message": msg}})
}

func (s *Service) writeLoginError(w http.ResponseWriter, err error) {
	if le, ok := err.(*loginError); ok {
		if le.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((le.retryAfter+time.Second-1)/time.Second)))
		}
		if le.methods != nil {
			w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.cfg.Endpoint+`/identity"`)
			writeJSON(w, le.code, map[string]any{"error": map[string]any{"code": le.code, "title": titles[le.code],
				"message": le.msg, "identity": map[string]any{"methods": le.methods}}})
			return
		}
		s.writeError(w, le.code, le.msg)
		return
	}
	s.writeError(w, http.StatusInternalServerError, msgInternal)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error": {"code": 500, "title": "Internal Server Error", "message": "`+msgInternal+`"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Vary", "X-Auth-Token")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
