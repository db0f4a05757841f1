package novaapi

import (
	"net/http"
	"strings"
)

// The version documents, served without authentication: GET / lists the API versions,
// GET /v2.1 describes the one Kova serves. Kova serves only v2.1 (no legacy v2.0), so
// only v2.1 is listed.

const (
	versionUpdated = "2013-07-23T11:33:21Z"
	docsHref       = "http://docs.openstack.org/"
)

// Versions serves GET "/" (the versions list) and GET "/v2.1" (the v2.1 document), with
// links under the root URL root returns for a request (scheme, host and any path prefix,
// without a trailing slash).
func Versions(root func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := strings.TrimRight(root(r), "/")
		self := base + "/v2.1/"
		path := strings.TrimRight(r.URL.Path, "/")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeFault(w, http.StatusNotFound, msgResourceNotFound)
			return
		}
		switch {
		case path == "":
			writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
				"id":          "v2.1",
				"status":      "CURRENT",
				"version":     maxVersion.String(),
				"min_version": minVersion.String(),
				"updated":     versionUpdated,
				"links":       []link{{Href: self, Rel: "self"}},
			}}})
		case strings.HasSuffix(path, "/v2.1") || path == "/v2.1":
			v, err := requestedVersion(r.Header)
			if err != nil {
				writeFault(w, err.code, err.message)
				return
			}
			setVersionHeaders(w.Header(), v)
			writeJSON(w, http.StatusOK, map[string]any{"version": map[string]any{
				"id":          "v2.1",
				"status":      "CURRENT",
				"version":     maxVersion.String(),
				"min_version": minVersion.String(),
				"updated":     versionUpdated,
				"links": []link{
					{Href: self, Rel: "self"},
					{Href: docsHref, Rel: "describedby", Type: "text/html"},
				},
				"media-types": []map[string]string{{
					"base": "application/json",
					"type": "application/vnd.openstack.compute+json;version=2.1",
				}},
			}})
		default:
			writeFault(w, http.StatusNotFound, msgResourceNotFound)
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(marshal(v))
}
