package novaapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/munnerz/goautoneg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kova-dev/kova/internal/quota"
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
	// msgUnavailable is webob's text for a 503, which Nova answers with.
	msgUnavailable = "The server is currently unavailable. Please try again at a later time."
)

// apiError is an error that becomes a Nova error body.
type apiError struct {
	code    int
	message string
	// page says the body is webob's HTML page rather than Nova's JSON fault: what a
	// middleware in front of Nova answers (oslo's sizelimit for a body over the limit).
	page bool
}

// tooLarge is oslo.middleware's sizelimit answer to a body over limit bytes, which comes
// before Nova itself: webob's HTML page, not a JSON fault.
func tooLarge(limit int64) *apiError {
	return &apiError{code: http.StatusRequestEntityTooLarge, page: true,
		message: fmt.Sprintf("Request is too large. Larger than max_request_body_size (%d).", limit)}
}

// writeError writes e as Nova's JSON fault, or as webob's page when e is one.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if !e.page {
		writeFault(w, e.code, e.message)
		return
	}
	writePage(w, r.Header.Get("Accept"), e.code, e.message)
}

// writePage writes the body webob gives an HTTP error raised outside Nova's fault handling
// (oslo's sizelimit, a path no route matches), in the form Accept asks for as webob
// chooses it: HTML when text/html fits (no Accept at all, or */*), JSON when only
// application/json does, plain text otherwise. The bytes are the Nova peer's.
func writePage(w http.ResponseWriter, accept string, code int, explanation string) {
	writeWebobPage(w, accept, code, explanation, "", false)
}

// writeWebobPage is writePage with webob's detail line under the explanation, which Glance
// fills for some errors (HTTPForbidden(msg): the default explanation, then msg), and with
// the HTML form's text escaped as webob escapes it when escape is set (Glance's pages).
func writeWebobPage(w http.ResponseWriter, accept string, code int, explanation, detail string, escape bool) {
	status := strconv.Itoa(code) + " " + http.StatusText(code)
	match := "text/html"
	if strings.TrimSpace(accept) != "" {
		match = goautoneg.Negotiate(accept, []string{"text/html", "application/json"})
	}
	var ct, body string
	switch match {
	case "text/html":
		ct = "text/html; charset=UTF-8"
		e, d := explanation, detail
		if escape {
			e, d = pyEscape(e), pyEscape(d)
		}
		body = "<html>\n <head>\n  <title>" + status + "</title>\n </head>\n <body>\n  <h1>" + status +
			"</h1>\n  " + e + "<br /><br />\n" + d + "\n\n\n </body>\n</html>"
	case "application/json":
		ct = "application/json"
		body = `{"message": ` + string(marshal(explanation+"<br /><br />\n"+detail+"\n\n")) + `, "code": ` + string(marshal(status)) +
			`, "title": ` + string(marshal(http.StatusText(code))) + `}`
	default:
		ct = "text/plain; charset=UTF-8"
		body = status + "\n\n" + explanation + "\n\n"
		if detail != "" {
			body += detail + "\n"
		}
		body += "   "
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// pyEscape is Python's html.escape, which webob's pages use.
var pyEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace

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

// marshal encodes JSON as Nova's serializer (Python's json.dumps) writes it: no HTML
// escaping, ", " and ": " between items and after keys, and no trailing newline.
func marshal(v any) []byte {
	buf := encodeBuffer()
	defer keepEncodeBuffer(buf)
	if err := encodeBody(buf, v); err != nil {
		return []byte(`{}`)
	}
	return pythonSeparators(buf.Bytes())
}

// encodeBody writes v's compact JSON to buf, as encoding/json writes it. A body that is an
// object has its lists written item by item: encoding/json encodes a value whole into a
// buffer of its own, which a list of 1,000 servers grows by doubling to twice its size on
// every page (its pool of them is emptied by the collector), and copies it out; an item is
// small, so its buffer is reused.
func encodeBody(buf *bytes.Buffer, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return encodeValue(buf, v)
	}
	buf.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) { // encoding/json sorts an object's keys
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encodeValue(buf, k); err != nil {
			return err
		}
		buf.WriteByte(':')
		items, ok := m[k].([]any)
		if !ok || items == nil {
			if err := encodeValue(buf, m[k]); err != nil {
				return err
			}
			continue
		}
		buf.WriteByte('[')
		for j, item := range items {
			if j > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return nil
}

// encodeValue writes v's compact JSON to buf, HTML characters unescaped, as Nova writes them.
func encodeValue(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // the newline Encode ends with
	return nil
}

// encodeBuffers hold the compact JSON marshal writes before pythonSeparators copies it
// out: a page of 1,000 servers is about 1.3 MB, which a fresh buffer reaches by doubling,
// allocating twice that again. A sync.Pool would drop them at every other collection, and a
// walk of a large list collects more often than once a page; these are kept, the two
// largest at most, each at most maxPooledEncodeBuffer (a body far larger than any page is
// left to the collector), and the last kept is reused first.
var encodeBuffers struct {
	mu   sync.Mutex
	kept []*bytes.Buffer
}

func encodeBuffer() *bytes.Buffer {
	p := &encodeBuffers
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.kept); n > 0 {
		b := p.kept[n-1]
		p.kept = p.kept[:n-1]
		return b
	}
	return new(bytes.Buffer)
}

func keepEncodeBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledEncodeBuffer {
		return
	}
	b.Reset()
	p := &encodeBuffers
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.kept) < 2 {
		p.kept = append(p.kept, b)
		return
	}
	// Full: b takes the place of the smaller, if it is larger, and is reused first.
	i := 0
	if p.kept[1].Cap() < p.kept[0].Cap() {
		i = 1
	}
	if b.Cap() > p.kept[i].Cap() {
		p.kept = append(slices.Delete(p.kept, i, i+1), b)
	}
}

const maxPooledEncodeBuffer = 8 << 20

// pythonSeparators writes compact JSON as Python's json.dumps does by default: a space
// after every comma and colon outside strings, and every non-ASCII character escaped
// (ensure_ascii), as \uXXXX or a surrogate pair.
func pythonSeparators(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	inString := false
	from := 0 // compact[from:i] is still to be copied
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		switch {
		case c >= utf8.RuneSelf:
			out = append(out, compact[from:i]...)
			r, size := utf8.DecodeRune(compact[i:])
			for _, u := range utf16.Encode([]rune{r}) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
			i += size - 1
			from = i + 1
		case inString && c == '\\':
			i++ // what a backslash escapes is ASCII, and never ends the string
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(append(out, compact[from:i+1]...), ' ')
			from = i + 1
		}
	}
	return append(out, compact[from:]...)
}

// asAPIError maps an error from the Kubernetes API (or anything else) to what Nova would
// answer: an apiError passes through; a refusal of the API server or of an admission
// webhook becomes Nova's body with Nova's words (see novaMessage); anything unexpected is
// a computeFault.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var over *quota.ExceededError
	if errors.As(err, &over) {
		return forbidden("%s", over.Message)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		switch st.Code {
		case http.StatusConflict:
			return conflict("%s", novaMessage(st))
		case http.StatusForbidden:
			return forbidden("%s", novaMessage(st))
		case http.StatusNotFound:
			return notFound("%s", msgResourceNotFound)
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return badRequest("%s", novaMessage(st))
		case http.StatusRequestEntityTooLarge:
			return newError(http.StatusRequestEntityTooLarge, msgTooLarge)
		case http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
			http.StatusTooManyRequests:
			// The API server, etcd or a webhook could not answer now (a restart, a
			// timeout): the request may be sent again, and the client is not told the
			// cluster's internal addresses.
			return newError(http.StatusServiceUnavailable, msgUnavailable)
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) {
		return newError(http.StatusServiceUnavailable, msgUnavailable)
	}
	return newError(http.StatusInternalServerError, "Unexpected API Error. %v", err)
}

// Unavailable says whether err is the Kubernetes API being unreachable or unable to answer
// now (what is answered with Nova's 503, to be sent again).
func Unavailable(err error) bool {
	return err != nil && asAPIError(err).code == http.StatusServiceUnavailable
}

// novaMessage is what a Nova client is told of a refusal from the API server: never
// Kubernetes' framing (`Server.compute.kova.dev "srv-…" is invalid: ...`, which names an
// object the client has never seen), but the message inside it. Kova's admission webhooks
// put Nova's own message in each field error, so a webhook's refusal reads as Nova's; the
// API server's own checks (the CRD schema, RBAC) are said in Nova's form around their
// detail.
func novaMessage(st metav1.Status) string {
	msg, fromWebhook := st.Message, false
	if _, rest, ok := strings.Cut(msg, "denied the request: "); ok {
		msg, fromWebhook = rest, true
	}
	if st.Details != nil && len(st.Details.Causes) > 0 {
		c := st.Details.Causes[0]
		detail, ok := causeDetail(c)
		switch {
		case ok && fromWebhook:
			return detail
		case c.Field != "":
			leaf := c.Field[strings.LastIndex(c.Field, ".")+1:]
			if i := strings.Index(leaf, "["); i > 0 {
				leaf = leaf[:i]
			}
			return fmt.Sprintf("Invalid input for field/attribute %s. %s", leaf, c.Message)
		}
	}
	if m := rbacDenial.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("Policy doesn't allow %s:%s to be performed.", m[2], m[1])
	}
	return webhookMessage(msg)
}

// rbacDenial is how the API server words an RBAC refusal: `servers.compute.kova.dev is
// forbidden: User "u" cannot create resource "servers" in API group ...`.
var rbacDenial = regexp.MustCompile(`cannot (\S+) resource "([^"]+)"`)

// objectPrefix is the API server's framing of a message about one object:
// `Server.compute.kova.dev "srv-1" is invalid: ` or `servers.compute.kova.dev "x" is forbidden: `.
var objectPrefix = regexp.MustCompile(`^\S+ "[^"]*" is (invalid|forbidden): `)

// causeDetail is the detail of one field error, as field.Error.ErrorBody wrote it:
// "<type>[: <value>][: <detail>]", e.g. `Invalid value: "nope": Flavor nope could not be
// found.`. It reports false when the error has no detail.
func causeDetail(c metav1.StatusCause) (string, bool) {
	rest := c.Message
	for _, t := range []field.ErrorType{field.ErrorTypeInvalid, field.ErrorTypeNotSupported, field.ErrorTypeNotFound,
		field.ErrorTypeDuplicate, field.ErrorTypeTooMany, field.ErrorTypeTooFew, field.ErrorTypeRequired,
		field.ErrorTypeForbidden, field.ErrorTypeTooLong, field.ErrorTypeTooShort, field.ErrorTypeInternal} {
		if string(c.Type) != string(t) || !strings.HasPrefix(rest, t.String()) {
			continue
		}
		rest = strings.TrimPrefix(rest, t.String())
		switch t {
		case field.ErrorTypeRequired, field.ErrorTypeForbidden, field.ErrorTypeTooLong, field.ErrorTypeTooShort, field.ErrorTypeInternal:
		default: // the bad value comes first
			rest = skipValue(strings.TrimPrefix(rest, ": "))
		}
		detail, ok := strings.CutPrefix(rest, ": ")
		return detail, ok && detail != ""
	}
	return "", false
}

// skipValue drops the value at the start of s: a quoted string, a JSON object or list,
// or a plain number or boolean.
func skipValue(s string) string {
	switch {
	case strings.HasPrefix(s, `"`):
		if q, err := strconv.QuotedPrefix(s); err == nil {
			return s[len(q):]
		}
	case strings.HasPrefix(s, "{") || strings.HasPrefix(s, "["):
		dec := json.NewDecoder(strings.NewReader(s))
		var v any
		if dec.Decode(&v) == nil {
			return s[dec.InputOffset():]
		}
	}
	if i := strings.Index(s, ": "); i >= 0 {
		return s[i:]
	}
	return ""
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
	if loc := objectPrefix.FindStringIndex(msg); loc != nil {
		return msg[loc[1]:]
	}
	return msg
}

// isOptimisticConflict is a write that lost a race on resourceVersion ("the object has
// been modified", or a DELETE's "ResourceVersion in precondition" that does not match):
// worth a retry. A webhook's 409 is Nova's answer and is not.
func isOptimisticConflict(err error) bool {
	if !apierrors.IsConflict(err) {
		return false
	}
	msg := err.Error()
	return !strings.Contains(msg, "denied the request") &&
		(strings.Contains(msg, "modified") || strings.Contains(msg, "ResourceVersion in precondition"))
}

// isReplaced is a write refused because the object of that name is no longer the one the
// request named (its uid precondition failed): that one is gone, perhaps made again under
// the name.
func isReplaced(err error) bool {
	return apierrors.IsConflict(err) && strings.Contains(err.Error(), "UID in precondition")
}
