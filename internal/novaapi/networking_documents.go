package novaapi

import (
	"net/http"
	"strings"
)

// neutronErrorTypes are the types Neutron's fault wrapper gives plain HTTP errors.
var neutronErrorTypes = map[int]string{
	http.StatusBadRequest:            "HTTPBadRequest",
	http.StatusUnauthorized:          "HTTPUnauthorized",
	http.StatusForbidden:             "HTTPForbidden",
	http.StatusNotFound:              "HTTPNotFound",
	http.StatusMethodNotAllowed:      "HTTPMethodNotAllowed",
	http.StatusConflict:              "HTTPConflict",
	http.StatusRequestEntityTooLarge: "HTTPRequestEntityTooLarge",
	http.StatusServiceUnavailable:    "HTTPServiceUnavailable",
}

// WriteNeutronError writes the networking service's error body,
// {"NeutronError": {"type": ..., "message": ..., "detail": ""}}; an empty typ is the
// HTTP error's own.
func WriteNeutronError(w http.ResponseWriter, code int, typ, msg string) {
	if typ == "" {
		typ = neutronErrorTypes[code]
		if typ == "" {
			typ = "HTTPInternalServerError"
		}
	}
	writeJSON(w, code, map[string]any{"NeutronError": map[string]any{"type": typ, "message": msg, "detail": ""}})
}

// msgUnauthorized is the message of a request without (valid) credentials.
const msgUnauthorized = "The request you have made requires authentication."

// NetworkingVersions serves the networking service's unauthenticated documents at
// "/networking" (the versions) and "/networking/v2.0" (its resources), as Neutron serves
// them at "/" and "/v2.0/"; root gives the scheme and host the client used.
func NetworkingVersions(root func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			WriteNeutronError(w, http.StatusMethodNotAllowed, "", "The method is not allowed on this resource.")
			return
		}
		base := strings.TrimRight(root(r), "/") + "/networking/v2.0"
		if strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/v2.0") {
			var resources []any
			for _, c := range [][2]string{{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"},
				{"security_group", "security-groups"}, {"security_group_rule", "security-group-rules"}, {"floatingip", "floatingips"}} {
				resources = append(resources, map[string]any{"name": c[0], "collection": c[1],
					"links": []link{{Href: base + "/" + c[1], Rel: "self"}}})
			}
			writeJSON(w, http.StatusOK, map[string]any{"resources": resources})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
			"id": "v2.0", "status": "CURRENT", "links": []link{{Href: base + "/", Rel: "self"}},
		}}})
	})
}
