// Package novaserver is the serving layer of the Nova REST shim (cmd/nova-api): a
// k8s.io/apiserver GenericAPIServer with no storage, reached two ways, that authenticates
// and authorizes every request the Kubernetes way and then hands it to the Nova handler
// (internal/novaapi) with the caller, the tenant and the compute root set.
//
//   - Aggregated: kube-apiserver proxies /apis/nova.kova.dev/v1/namespaces/{tenant}/... to
//     the secure port (APIService v1.nova.kova.dev), asserting the user with front-proxy
//     headers that count only with a client certificate from the request-header CA.
//   - Direct: OpenStack clients call /v2.1/{tenant}/..., /v2.1/... and
//     /accounts/{accountId}/flexcloud/servers on a second HTTPS listener with X-Auth-Token
//     carrying a Kubernetes bearer token. The path is rewritten to the aggregated form and
//     the request runs through the same handler chain, so authentication (TokenReview) and
//     authorization (SubjectAccessReview on resource servers, subresource action, ...) are
//     the same on both ways.
package novaserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/healthz"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/impersonate"
	"github.com/kova-dev/kova/internal/novaapi"
	"github.com/kova-dev/kova/internal/uidindex"
)

// shutdownTimeout bounds how long in-flight direct requests get once the server stops.
const shutdownTimeout = 30 * time.Second

// rememberedDeletions is how many deleted servers nova-api names by uid, so that the 404 a
// client polls for after a delete needs no LIST of the tenant (novaapi.UIDIndex): the last
// 8,192, about 1.2 MB once that many have been deleted.
const rememberedDeletions = 8192

// Config is a validated configuration; New builds a Server from it.
type Config struct {
	Generic *genericapiserver.RecommendedConfig
	// REST connects to kube-apiserver for the cache and writes.
	REST *rest.Config
	// AggregatedBase is kube-apiserver's URL as clients use it, the base of the compute
	// root of requests that come through it.
	AggregatedBase string
	// DirectListener is the bound direct listener, or nil for none.
	DirectListener  net.Listener
	PublicNamespace string
	DefaultTenant   string
	MaxBodyBytes    int64
	// DirectBase is the base URL of the direct listener as clients know it, the base of
	// links in its answers (never the request's Host).
	DirectBase string
	// MaxPerRequest bounds the servers a create makes (novaapi.Config).
	MaxPerRequest int
	// IdentityNamespace, TokenTTL and KeyRotation configure the identity service
	// (internal/identity).
	IdentityNamespace string
	TokenTTL          time.Duration
	KeyRotation       time.Duration
	// ImageStoreDir ("" for a temporary directory) and ImageMaxBytes: the image API's data.
	ImageStoreDir string
	ImageMaxBytes int64
}

// Server is a nova-api server ready to Run.
type Server struct {
	generic     *genericapiserver.GenericAPIServer
	cache       cache.Cache
	indexFields func(ctx context.Context, idx client.FieldIndexer) error
	// serverUIDs names the cached servers by uid for the handler; kept from the cache's
	// Server informer.
	serverUIDs     *uidindex.Index
	direct         *http.Server
	directListener net.Listener
	identity       *identity.Service
	synced         atomic.Bool
	images         *imageData
}

// New assembles the server: the generic API server and its handler chain, the cache and
// client the Nova handler uses, the routes of both ways in, and discovery.
func (c *Config) New(nova Nova) (*Server, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := computev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	informers, err := cache.New(c.REST, cache.Options{Scheme: scheme, DefaultTransform: novaapi.CacheTransform()})
	if err != nil {
		return nil, fmt.Errorf("creating the informer cache: %w", err)
	}
	writer, err := client.New(c.REST, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating the client: %w", err)
	}
	live, err := newLiveReader(c.REST, scheme)
	if err != nil {
		return nil, fmt.Errorf("creating the reading client: %w", err)
	}
	// The identity service checks Kova tokens for the handler chain, so it is made, and put
	// in front of the chain's authenticator, before the chain is built.
	ids := identity.New(identity.Config{
		Namespace: c.IdentityNamespace, Client: writer, Cache: informers, Live: live,
		Authorizer: c.Generic.Authorization.Authorizer,
		KubeTokens: bearerAuthenticator(c.Generic.Authentication.Authenticator),
		Endpoint:   c.DirectBase, TokenTTL: c.TokenTTL, KeyRotation: c.KeyRotation,
	})
	c.Generic.Authentication.Authenticator = withIdentityTokens(c.Generic.Authentication.Authenticator, ids)
	completed := c.Generic.Complete()
	generic, err := completed.New("nova-api", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	images, err := newImageData(c.ImageStoreDir, c.ImageMaxBytes, informers)
	if err != nil {
		return nil, err
	}
	serverUIDs := uidindex.New()
	serverUIDs.RememberDeleted(rememberedDeletions)
	deps := Deps{
		ImageStore:      images.store,
		Client:          writer,
		Live:            live,
		Cache:           informers,
		ServerUIDs:      serverUIDs,
		Admins:          admins{authorizer: completed.Authorization.Authorizer},
		ClientFor:       impersonate.New(c.REST, scheme, writer.RESTMapper()).For,
		PublicNamespace: c.PublicNamespace,
		MaxBodyBytes:    c.MaxBodyBytes,
		MaxPerRequest:   c.MaxPerRequest,
	}

	s := &Server{generic: generic, cache: informers, indexFields: nova.IndexFields, serverUIDs: serverUIDs, directListener: c.DirectListener, identity: ids, images: images}
	if err := installDiscovery(generic); err != nil {
		return nil, err
	}
	router := &tenantRouter{
		compute: nova.Compute(deps), flexCloud: nova.FlexCloud(deps), glance: nova.Glance(deps), writeError: nova.WriteError,
		aggregatedBase: c.AggregatedBase,
	}
	if nova.Networking != nil {
		router.networking = nova.Networking(deps)
	}
	generic.Handler.NonGoRestfulMux.HandlePrefix(tenantsPath, router)
	if err := generic.AddReadyzChecks(healthz.NamedCheck("informer-sync", func(*http.Request) error {
		if !s.synced.Load() {
			return errors.New("the informer cache has not synced yet")
		}
		return nil
	})); err != nil {
		return nil, err
	}

	if c.DirectListener != nil {
		d := &direct{
			chain:         generic.Handler,
			versions:      nova.Versions(func(*http.Request) string { return c.DirectBase }),
			imageVersions: nova.GlanceVersions(func(*http.Request) string { return c.DirectBase + imagePrefix }),
			glanceError:   nova.WriteGlanceError,
			glancePolicy:  nova.GlancePolicyMessage,
			base:          c.DirectBase,
			writeError:    nova.WriteError,
			authenticator: completed.Authentication.Authenticator,
			requestInfo:   completed.RequestInfoResolver,
			defaultTenant: c.DefaultTenant,
			identity:      ids,
		}
		if nova.Networking != nil {
			d.networkingVersions = nova.NetworkingVersions(func(*http.Request) string { return c.DirectBase })
			d.writeNetworkingError = nova.WriteNetworkingError
		}
		s.direct = &http.Server{
			Handler:           d,
			TLSConfig:         directTLSConfig(completed.SecureServing.Cert),
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       90 * time.Second,
			MaxHeaderBytes:    1 << 20,
		}
	}
	return s, nil
}

// Run serves until ctx ends: it starts the cache (after the handler's indexes are
// registered) and the direct listener, and runs the generic server, which stops gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := s.indexFields(ctx, s.cache); err != nil {
		return fmt.Errorf("registering the Nova handler's field indexes: %w", err)
	}
	if err := s.serverUIDs.Watch(ctx, s.cache, &computev1.Server{}); err != nil {
		return fmt.Errorf("indexing the servers by uid: %w", err)
	}
	// Start every informer now rather than on the first request that needs it.
	for _, obj := range []client.Object{
		&computev1.Server{}, &computev1.ServerAction{}, &computev1.Flavor{}, &computev1.Image{},
		&computev1.Keypair{}, &computev1.Network{}, &computev1.User{}, &computev1.ApplicationCredential{}, &computev1.SecurityGroup{},
		&computev1.FloatingIP{},
	} {
		if _, err := s.cache.GetInformer(ctx, obj, cache.BlockUntilSynced(false)); err != nil {
			return fmt.Errorf("starting the informer for %T: %w", obj, err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 3)
	wg.Go(func() {
		if err := s.cache.Start(ctx); err != nil {
			errs <- fmt.Errorf("informer cache: %w", err)
		}
	})
	wg.Go(func() {
		if s.cache.WaitForCacheSync(ctx) {
			s.synced.Store(true)
			klog.InfoS("Synced the informer cache")
			s.images.sweepEvery(ctx, imageSweepInterval)
		}
	})
	if s.direct != nil {
		wg.Go(func() { s.identity.SweepRevocations(ctx) })
		wg.Go(func() {
			klog.InfoS("Serving the direct Nova endpoint", "address", s.directListener.Addr().String())
			if err := s.direct.ServeTLS(s.directListener, "", ""); !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("direct listener: %w", err)
			}
		})
		wg.Go(func() {
			<-ctx.Done()
			shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer done()
			_ = s.direct.Shutdown(shutdownCtx)
		})
	}
	wg.Go(func() {
		if err := s.generic.PrepareRun().RunWithContext(ctx); err != nil {
			errs <- err
		}
		cancel() // the generic server only returns once ctx ended, or on failure
	})

	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		cancel()
		return err
	}
}

// directTLSConfig serves the same certificate as the secure port, without asking for a
// client certificate: on the direct listener only bearer tokens authenticate.
func directTLSConfig(cert dynamiccertificates.CertKeyContentProvider) *tls.Config {
	var (
		mu             sync.Mutex
		lastCert, last []byte
		parsed         *tls.Certificate
	)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			certPEM, keyPEM := cert.CurrentCertKeyContent()
			mu.Lock()
			defer mu.Unlock()
			if parsed == nil || string(certPEM) != string(lastCert) || string(keyPEM) != string(last) {
				c, err := tls.X509KeyPair(certPEM, keyPEM)
				if err != nil {
					return nil, fmt.Errorf("serving certificate: %w", err)
				}
				parsed, lastCert, last = &c, certPEM, keyPEM
			}
			return parsed, nil
		},
	}
}
