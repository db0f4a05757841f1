package novaserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi"
	"github.com/kova-dev/kova/internal/novaserver"
)

// echo is what the stand-in Nova handler answers: who called, for which tenant, and what
// reached it, so that the tests can check what the serving layer set.
type echo struct {
	Handler string   `json:"handler"`
	Method  string   `json:"method"`
	Path    string   `json:"path"`
	Tenant  string   `json:"tenant"`
	User    string   `json:"user"`
	Groups  []string `json:"groups"`
	Root    string   `json:"root"`
	Admin   bool     `json:"admin"`
	// Headers the handler must not see on the direct way in.
	AuthToken, Authorization, RemoteUser string
	// Flavors counts the flavors in the cache, to show reads work.
	Flavors int `json:"flavors"`
}

// handlerForbidden is a path the stand-in refuses itself, with a message of its own.
const handlerForbidden = "/servers/refused-by-handler"

// standIn stands for internal/novaapi, which is written concurrently.
func standIn() novaserver.Nova {
	return novaserver.Nova{
		IndexFields: func(ctx context.Context, idx client.FieldIndexer) error {
			// Registering an index fails once the cache has started: proves the order.
			return idx.IndexField(ctx, &computev1.Server{}, "spec.flavorRef", func(o client.Object) []string {
				return []string{o.(*computev1.Server).Spec.FlavorRef}
			})
		},
		Compute:   func(d novaserver.Deps) http.Handler { return echoHandler("compute", d) },
		FlexCloud: func(d novaserver.Deps) http.Handler { return echoHandler("flexcloud", d) },
		Versions: func(root func(*http.Request) string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, map[string]string{"version": "v2.1", "self": root(r) + r.URL.Path})
			})
		},
		WriteError: writeNovaError,
		Glance:     func(d novaserver.Deps) http.Handler { return echoHandler("glance", d) },
		GlanceVersions: func(root func(*http.Request) string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusMultipleChoices, map[string]string{"versions": "image", "self": root(r) + r.URL.Path})
			})
		},
		WriteGlanceError:    func(w http.ResponseWriter, _ *http.Request, code int, msg string) { http.Error(w, msg, code) },
		GlancePolicyMessage: func(method, path string) string { return "glance refuses " + method + " " + path },
	}
}

func echoHandler(name string, d novaserver.Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := novaapi.CallerFrom(r.Context())
		if !ok {
			writeNovaError(w, http.StatusInternalServerError, "no caller")
			return
		}
		if r.URL.Path == handlerForbidden {
			writeNovaError(w, http.StatusForbidden, "The handler refused this itself.")
			return
		}
		admin, err := d.Admins.IsAdmin(r.Context(), c.User)
		if err != nil {
			writeNovaError(w, http.StatusInternalServerError, err.Error())
			return
		}
		var flavors computev1.FlavorList
		if err := d.Cache.List(r.Context(), &flavors); err != nil {
			writeNovaError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, echo{
			Handler: name, Method: r.Method, Path: r.URL.Path,
			Tenant: c.Tenant, User: c.User.GetName(), Groups: c.User.GetGroups(), Root: c.Root, Admin: admin,
			AuthToken: r.Header.Get("X-Auth-Token"), Authorization: r.Header.Get("Authorization"),
			RemoteUser: r.Header.Get("X-Remote-User"), Flavors: len(flavors.Items),
		})
	})
}

// writeNovaError writes Nova's error body, as novaapi.WriteError does.
func writeNovaError(w http.ResponseWriter, code int, msg string) {
	key := map[int]string{
		http.StatusBadRequest: "badRequest", http.StatusUnauthorized: "unauthorized",
		http.StatusForbidden: "forbidden", http.StatusNotFound: "itemNotFound",
	}[code]
	if key == "" {
		key = "computeFault"
	}
	writeJSON(w, code, map[string]novaError{key: {Code: code, Message: msg}})
}

type novaError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// novaErrorBody decodes a Nova error body: its single key and content.
func novaErrorBody(body []byte) (string, novaError, error) {
	var m map[string]novaError
	if err := json.Unmarshal(body, &m); err != nil {
		return "", novaError{}, err
	}
	for k, v := range m {
		return k, v, nil
	}
	return "", novaError{}, fmt.Errorf("no Nova error in %q", body)
}
