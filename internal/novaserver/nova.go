package novaserver

import (
	"context"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/imagestore"
	"github.com/kova-dev/kova/internal/novaapi"
)

// Nova is what the serving layer takes from the Nova handler package: NovaAPI in
// production, a stand-in in tests.
type Nova struct {
	// IndexFields registers the handler's field indexes (and, when idx is the informer
	// cache, its event handlers); it is called before the cache starts.
	IndexFields func(ctx context.Context, idx client.FieldIndexer) error
	// Compute serves paths relative to the compute root ("/servers", "/flavors/detail", ...).
	Compute func(Deps) http.Handler
	// FlexCloud serves "/servers..." relative to /accounts/{accountId}/flexcloud.
	FlexCloud func(Deps) http.Handler
	// Versions serves the unauthenticated version documents at "/" and "/v2.1"; root gives
	// the scheme and host the client used.
	Versions func(root func(*http.Request) string) http.Handler
	// WriteError writes a Nova error body, e.g. {"unauthorized": {"code": 401, ...}}.
	WriteError func(w http.ResponseWriter, code int, msg string)

	// Networking serves the networking service's read API relative to its /v2.0 root
	// ("/networks", "/ports/{id}", ...); nil serves none.
	Networking func(Deps) http.Handler
	// NetworkingVersions serves its unauthenticated documents at "/networking" and
	// "/networking/v2.0".
	NetworkingVersions func(root func(*http.Request) string) http.Handler
	// WriteNetworkingError writes its error body ({"NeutronError": ...}).
	WriteNetworkingError func(w http.ResponseWriter, code int, msg string)
	// Glance serves the image API, paths relative to /image/v2 ("/images", ...);
	// GlanceVersions its unauthenticated version documents ("" and "/versions" under
	// /image), root giving the image endpoint as the client knows it.
	Glance         func(Deps) http.Handler
	GlanceVersions func(root func(*http.Request) string) http.Handler
	// WriteGlanceError writes the image API's error page; GlancePolicyMessage words its 403
	// for a call (method, path after /image) RBAC refused.
	WriteGlanceError    func(w http.ResponseWriter, r *http.Request, code int, msg string)
	GlancePolicyMessage func(method, path string) string
}

// Deps is what the Nova handler works with.
type Deps struct {
	Client client.Client // the server's own identity: its chores, reads past the cache
	// ClientFor returns a client that acts as a caller: writes made for a caller go
	// through it, so RBAC and the admission webhooks see the real requester.
	ClientFor       func(user.Info) (client.Client, error)
	Cache           client.Reader // reads, from informers over compute.kova.dev
	Live            client.Reader // reads past the cache, consistent (novaapi.Config.Live)
	Admins          novaapi.Admins
	PublicNamespace string
	MaxBodyBytes    int64
	// MaxPerRequest bounds the servers one create makes (the quotas are Quota objects).
	MaxPerRequest int
	// ImageStore holds the image API's data.
	ImageStore *imagestore.Store
	// ServerUIDs names the cached servers by uid (novaapi.Config.ServerUIDs).
	ServerUIDs novaapi.UIDIndex
}

// NovaAPI is internal/novaapi, the Nova handler cmd/nova-api serves.
func NovaAPI() Nova {
	// One index of servers for every handler of this server, fed by its informers.
	servers := novaapi.NewServerIndex()
	config := func(d Deps) novaapi.Config {
		return novaapi.Config{
			Client:          d.Client,
			Cache:           d.Cache,
			Live:            d.Live,
			Admins:          d.Admins,
			PublicNamespace: d.PublicNamespace,
			MaxBodyBytes:    d.MaxBodyBytes,
			ClientFor:       d.ClientFor,
			ImageStore:      d.ImageStore,
			Servers:         servers,
			ServerUIDs:      d.ServerUIDs,

			MaxServersPerRequest: d.MaxPerRequest,
		}
	}
	return Nova{
		IndexFields: func(ctx context.Context, idx client.FieldIndexer) error {
			if err := novaapi.IndexFields(ctx, idx); err != nil {
				return err
			}
			if informers, ok := idx.(cache.Informers); ok {
				return servers.Watch(ctx, informers)
			}
			return nil
		},
		Compute:    func(d Deps) http.Handler { return novaapi.New(config(d)) },
		FlexCloud:  func(d Deps) http.Handler { return novaapi.FlexCloud(config(d)) },
		Versions:   novaapi.Versions,
		WriteError: novaapi.WriteError,

		Networking:         func(d Deps) http.Handler { return novaapi.Networking(config(d)) },
		NetworkingVersions: novaapi.NetworkingVersions,
		WriteNetworkingError: func(w http.ResponseWriter, code int, msg string) {
			novaapi.WriteNeutronError(w, code, "", msg)
		},
		Glance:              func(d Deps) http.Handler { return novaapi.Glance(config(d)) },
		GlanceVersions:      novaapi.GlanceVersions,
		WriteGlanceError:    novaapi.WriteGlanceError,
		GlancePolicyMessage: novaapi.GlancePolicyMessage,
	}
}
