package novaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// faultNames are the keys of Nova's error bodies (nova/api/openstack/wsgi.py Fault). A
// code without a name, such as 406 or 500, is a computeFault, as in Nova.
var faultNames = map[int]string{
	http.StatusBadRequest:            "badRequest",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "itemNotFound",
	http.StatusMethodNotAllowed:      "badMethod",
	http.StatusConflict:              "conflictingRequest",
	http.StatusRequestEntityTooLarge: "overLimit",
	http.StatusUnsupportedMediaType:  "badMediaType",
	http.StatusTooManyRequests:       "overLimit",
	http.StatusNotImplemented:        "notImplemented",
	http.StatusServiceUnavailable:    "serviceUnavailable",
}

// faultName is the body key Nova uses for a status code.
func faultName(code int) string {
	if n, ok := faultNames[code]; ok {
		return n
	}
	return "computeFault"
}

// Messages Nova uses in more than one place.
const (
	msgResourceNotFound = "The resource could not be found."
	msgMalformed        = "Malformed request body"
	msgTooLarge         = "Request is too large."
)

// apiError is an error that becomes a Nova error body.
type apiError struct {
	code    int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.message) }

func newError(code int, format string, args ...any) *apiError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &apiError{code: code, message: msg}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, format, args...)
}

func forbidden(format string, args ...any) *apiError {
	return newError(http.StatusForbidden, format, args...)
}

func notFound(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, format, args...)
}

func conflict(format string, args ...any) *apiError {
	return newError(http.StatusConflict, format, args...)
}

// notImplemented is Kova's answer for what Nova has and Kova does not have yet: an honest
// 501 in Nova's body, never a fake success.
func notImplemented(what string) *apiError {
	return newError(http.StatusNotImplemented, "%s is not implemented yet in Kova.", what)
}

// policyForbidden is Nova's 403 for a policy rule the caller does not pass.
func policyForbidden(rule string) *apiError {
	return forbidden("Policy doesn't allow %s to be performed.", rule)
}

// WriteError writes a Nova error body, {"<fault>": {"code": N, "message": "..."}}, with
// Nova's error content type. The serving layer uses it for its 401 and 403.
func WriteError(w http.ResponseWriter, code int, msg string) {
	writeFault(w, code, msg)
}

type faultBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeFault(w http.ResponseWriter, code int, msg string) {
	body := map[string]faultBody{faultName(code): {Code: code, Message: msg}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(marshal(body))
}

// marshal encodes JSON the way Nova's serializer does not escape: no HTML escaping, and
// no trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{}`)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// asAPIError maps an error from the Kubernetes API (or anything else) to what Nova would
// answer: an apiError passes through; an admission webhook's refusal keeps its message,
// which is Nova's; anything unexpected is a computeFault.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		switch st.Code {
		case http.StatusConflict:
			return conflict("%s", webhookMessage(st.Message))
		case http.StatusForbidden:
			return forbidden("%s", st.Message)
		case http.StatusNotFound:
			return notFound("%s", msgResourceNotFound)
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return badRequest("%s", webhookMessage(st.Message))
		case http.StatusRequestEntityTooLarge:
			return newError(http.StatusRequestEntityTooLarge, msgTooLarge)
		}
	}
	return newError(http.StatusInternalServerError, "Unexpected API Error. %v", err)
}

// webhookMessage digs Nova's message out of an API error that an admission webhook (or
// the API server) wrapped: `admission webhook "x" denied the request: Operation cannot be
// fulfilled on servers.compute.kova.dev "srv-1": Instance ... is locked`.
func webhookMessage(msg string) string {
	if _, rest, ok := strings.Cut(msg, "denied the request: "); ok {
		msg = rest
	}
	if strings.HasPrefix(msg, "Operation cannot be fulfilled on ") {
		if i := strings.Index(msg, "\": "); i >= 0 {
			return msg[i+3:]
		}
	}
	return msg
}

// isOptimisticConflict is a write that lost a race on resourceVersion ("the object has
// been modified"): worth a retry. A webhook's 409 is Nova's answer and is not.
func isOptimisticConflict(err error) bool {
	return apierrors.IsConflict(err) && !strings.Contains(err.Error(), "denied the request") &&
		strings.Contains(err.Error(), "modified")
}
