package novaserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	netutils "k8s.io/utils/net"

	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/rules"
)

// ServiceDNSName is the name kube-apiserver checks the serving certificate against when it
// proxies to the Service named in the APIService (nova-api in kova-system).
const ServiceDNSName = "nova-api.kova-system.svc"

// Defaults of the flags that are ours rather than the library's.
const (
	defaultSecurePort = 8443
	defaultDirectBind = "127.0.0.1:8774"
	// defaultImageMaxBytes bounds one uploaded image: 10 GiB, room for a cloud image.
	defaultImageMaxBytes = 10 << 30
	// No client-side limit: kube-apiserver's API Priority and Fairness queues and bounds
	// nova-api's requests fairly among its callers (flow schemas in config/flowcontrol), and
	// a token bucket in front of it only made every tenant's requests wait behind the others'
	// (50 requests/s held REST boots to half the kubectl path's rate). client-go disables its
	// limiter for a negative QPS; the flags still set one.
	defaultKubeAPIQPS   = -1
	defaultKubeAPIBurst = 100
	certPairName        = "nova-api"
)

// Options are the command-line options of the nova-api server: the library's secure serving
// and delegated authentication and authorization (as sample-apiserver and metrics-server use
// them, without etcd, admission or audit), plus the direct listener and the Nova settings.
type Options struct {
	SecureServing  *genericoptions.SecureServingOptionsWithLoopback
	Authentication *genericoptions.DelegatingAuthenticationOptions
	Authorization  *genericoptions.DelegatingAuthorizationOptions

	// Kubeconfig is used for the cache and writes, and, unless set apart, for TokenReviews
	// and SubjectAccessReviews. Empty means in-cluster.
	Kubeconfig   string
	KubeAPIQPS   float32
	KubeAPIBurst int
	// KubeAPIServerURL is how clients reach kube-apiserver: the base of the links in
	// responses served through it. kube-apiserver proxies with the Host of the Service, so
	// the request cannot tell. Empty means the server of Kubeconfig.
	KubeAPIServerURL string

	// DirectBindAddress is where OpenStack clients reach the server without kube-apiserver.
	// Empty disables the direct listener.
	DirectBindAddress string
	// DirectListener, if set, is used instead of DirectBindAddress (tests pass a listener on
	// port 0). Like SecureServing.Listener, it is not a flag.
	DirectListener net.Listener

	// PublicEndpoint is how OpenStack clients reach the direct listener (https://host:port):
	// the base of the Location header and of every link in answers to direct requests,
	// which never come from the request's Host header. Empty means https:// and
	// DirectBindAddress, which must then name a host.
	PublicEndpoint string

	PublicNamespace string
	// DefaultTenant is the tenant of /v2.1/... paths without one when the token is not a
	// service account's. Empty means such requests are refused.
	DefaultTenant string
	MaxBodyBytes  int64
	// MaxServersPerRequest bounds what one create makes. The quotas themselves are the
	// QuotaClass "default" and each tenant's Quota, which the admission webhook enforces.
	MaxServersPerRequest int

	// IdentityNamespace holds the identity service's Users, ApplicationCredentials, their
	// Secrets, token revocations and the token signing key; TokenTTL is how long its
	// tokens live.
	IdentityNamespace string
	TokenTTL          time.Duration
	// KeyRotation is how often the identity service makes a new token signing key
	// (0: never); the old keys verify their tokens as long as those can be validated.
	KeyRotation time.Duration
	// ImageStoreDir holds the data uploaded through the image API (a PersistentVolumeClaim
	// shared by the replicas when deployed); empty makes a temporary directory, which only
	// one replica can serve. ImageMaxBytes bounds one image's data.
	ImageStoreDir string
	ImageMaxBytes int64
	// PprofBindAddress serves Go's pprof endpoints for profiling (as the manager's flag of
	// the same name); empty serves none.
	PprofBindAddress string
	// WrapTransport, if set, stands between every client of kube-apiserver the server makes
	// (the cache and writes, TokenReviews, SubjectAccessReviews) and the wire: the
	// benchmarks trace what a request costs with it. Not a flag.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	sso := genericoptions.NewSecureServingOptions()
	sso.BindPort = defaultSecurePort
	sso.ServerCert.PairName = certPairName
	// kube-apiserver multiplexes many users' requests over one HTTP/2 connection.
	sso.HTTP2MaxStreamsPerConnection = 1000
	return &Options{
		SecureServing:     sso.WithLoopback(),
		Authentication:    genericoptions.NewDelegatingAuthenticationOptions(),
		Authorization:     genericoptions.NewDelegatingAuthorizationOptions(),
		KubeAPIQPS:        defaultKubeAPIQPS,
		KubeAPIBurst:      defaultKubeAPIBurst,
		DirectBindAddress: defaultDirectBind,
		PublicNamespace:   rules.DefaultPublicNamespace,
		// Kova's bound on one request.
		MaxServersPerRequest: 100,
		IdentityNamespace:    "kova-system",
		TokenTTL:             identity.DefaultTokenTTL,
		KeyRotation:          identity.DefaultKeyRotation,
		ImageMaxBytes:        defaultImageMaxBytes,
	}
}

// AddFlags adds the flags of every option to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.SecureServing.AddFlags(fs)
	o.Authentication.AddFlags(fs)
	o.Authorization.AddFlags(fs)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"kubeconfig of the cluster whose compute.kova.dev objects are served; also the default of --authentication-kubeconfig and --authorization-kubeconfig. Empty means in-cluster.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "queries per second to kube-apiserver; negative leaves the bounding to kube-apiserver's API Priority and Fairness")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "burst of queries to kube-apiserver, when --kube-api-qps is positive")
	fs.StringVar(&o.KubeAPIServerURL, "kube-apiserver-url", o.KubeAPIServerURL,
		"URL clients use to reach kube-apiserver, the base of links in responses served through it (default: the server of --kubeconfig)")
	fs.StringVar(&o.DirectBindAddress, "direct-bind-address", o.DirectBindAddress,
		"host:port of the direct HTTPS listener for OpenStack clients (X-Auth-Token carrying a Kubernetes bearer token); empty disables it")
	fs.StringVar(&o.PublicEndpoint, "public-endpoint", o.PublicEndpoint,
		"URL OpenStack clients reach the direct listener at (https://host:port), the base of Location headers and links in its answers; default https://<direct-bind-address>")
	fs.IntVar(&o.MaxServersPerRequest, "max-servers-per-request", o.MaxServersPerRequest,
		"most servers one create makes (max_count), whatever the quota")
	fs.StringVar(&o.PublicNamespace, "public-namespace", o.PublicNamespace, "namespace of the public images and shared networks every tenant sees")
	fs.StringVar(&o.DefaultTenant, "default-tenant", o.DefaultTenant,
		"tenant (namespace) of direct /v2.1/... requests without one, when the token is not a service account's")
	fs.StringVar(&o.IdentityNamespace, "identity-namespace", o.IdentityNamespace,
		"namespace of the identity service's Users, ApplicationCredentials and their Secrets, token revocations and signing key")
	fs.DurationVar(&o.TokenTTL, "token-ttl", o.TokenTTL, "how long a token of the identity service (/identity/v3) lives, as Keystone's [token] expiration")
	fs.DurationVar(&o.KeyRotation, "token-key-rotation", o.KeyRotation,
		"how often the identity service makes a new token signing key, as keystone-manage fernet_rotate; tokens signed with the old keys stay valid; 0 never rotates")
	fs.StringVar(&o.ImageStoreDir, "image-store-dir", o.ImageStoreDir,
		"directory of the image API's uploaded data, shared by every replica (a ReadWriteMany volume when deployed); empty makes a temporary one")
	fs.Int64Var(&o.ImageMaxBytes, "image-max-bytes", o.ImageMaxBytes, "largest image data one upload stores, 413 beyond")
	fs.Int64Var(&o.MaxBodyBytes, "max-body-bytes", o.MaxBodyBytes, "largest request body the Nova API accepts, 413 beyond; 0 means the handler's default")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, "address of Go's pprof endpoints (/debug/pprof), for profiling; empty serves none")
}

// Complete fills in what follows from other options.
func (o *Options) Complete() {
	if o.Authentication.RemoteKubeConfigFile == "" {
		o.Authentication.RemoteKubeConfigFile = o.Kubeconfig
	}
	if o.Authorization.RemoteKubeConfigFile == "" {
		o.Authorization.RemoteKubeConfigFile = o.Kubeconfig
	}
}

// Validate reports every invalid option.
func (o *Options) Validate() error {
	var errs []error
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	if o.SecureServing.BindPort == 0 && o.SecureServing.Listener == nil {
		errs = append(errs, errors.New("--secure-port must not be 0: the server only serves HTTPS"))
	}
	if o.DirectListener == nil && o.DirectBindAddress != "" {
		if _, _, err := net.SplitHostPort(o.DirectBindAddress); err != nil {
			errs = append(errs, fmt.Errorf("--direct-bind-address %q: %w", o.DirectBindAddress, err))
		}
	}
	if msgs := validation.IsDNS1123Label(o.PublicNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--public-namespace %q is not a namespace name: %v", o.PublicNamespace, msgs))
	}
	if msgs := validation.IsDNS1123Label(o.DefaultTenant); o.DefaultTenant != "" && len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--default-tenant %q is not a namespace name: %v", o.DefaultTenant, msgs))
	}
	if msgs := validation.IsDNS1123Label(o.IdentityNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--identity-namespace %q is not a namespace name: %v", o.IdentityNamespace, msgs))
	}
	if o.TokenTTL < time.Second || o.TokenTTL > 24*time.Hour {
		errs = append(errs, errors.New("--token-ttl must be between 1s and 24h"))
	}
	if o.KeyRotation != 0 && o.KeyRotation < time.Hour {
		errs = append(errs, errors.New("--token-key-rotation must be 0 (never) or at least 1h"))
	}
	if o.ImageMaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("--image-max-bytes must be positive, got %d", o.ImageMaxBytes))
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("--max-body-bytes must not be negative"))
	}
	if o.MaxServersPerRequest < 1 {
		errs = append(errs, errors.New("--max-servers-per-request must be at least 1"))
	}
	if _, err := o.directEndpoint(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Config turns the options into a server configuration: it generates a self-signed serving
// certificate if none was given, and connects the delegated authenticator and authorizer.
func (o *Options) Config() (*Config, error) {
	// The names kube-apiserver (through the Service) and local clients use.
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost",
		[]string{ServiceDNSName, ServiceDNSName + ".cluster.local"},
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating a self-signed serving certificate: %w", err)
	}

	gc := genericapiserver.NewRecommendedConfig(codecs)
	gc.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	gc.EnableProfiling = false
	if err := o.SecureServing.ApplyToConfig(&gc.Config); err != nil {
		return nil, err
	}
	if o.WrapTransport != nil {
		o.Authentication.CustomRoundTripperFn = o.WrapTransport
		o.Authorization.CustomRoundTripperFn = o.WrapTransport
	}
	if err := o.Authentication.ApplyTo(&gc.Authentication, gc.SecureServing, nil); err != nil {
		return nil, err
	}
	if err := o.Authorization.ApplyTo(&gc.Authorization); err != nil {
		return nil, err
	}
	// The library always lets requests without credentials through as system:anonymous;
	// here they must be 401, as Nova clients expect (see requireCredentials).
	gc.Authentication.Authenticator = refuseExpiredTokens(requireCredentials(markUnavailable(gc.Authentication.Authenticator)), time.Now)

	restConfig, err := loadRESTConfig(o.Kubeconfig)
	if err != nil {
		return nil, err
	}
	restConfig.QPS, restConfig.Burst = o.KubeAPIQPS, o.KubeAPIBurst
	restConfig.UserAgent = "kova-nova-api"
	if o.WrapTransport != nil {
		restConfig.Wrap(o.WrapTransport)
	}

	direct := o.DirectListener
	if direct == nil && o.DirectBindAddress != "" {
		if direct, err = net.Listen("tcp", o.DirectBindAddress); err != nil {
			return nil, fmt.Errorf("direct listener: %w", err)
		}
	}
	directBase, err := o.directEndpoint()
	if err != nil {
		return nil, err
	}
	base := o.KubeAPIServerURL
	if base == "" {
		base = restConfig.Host
	}
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	return &Config{
		Generic:           gc,
		REST:              restConfig,
		AggregatedBase:    strings.TrimSuffix(base, "/"),
		DirectListener:    direct,
		PublicNamespace:   o.PublicNamespace,
		DefaultTenant:     o.DefaultTenant,
		MaxBodyBytes:      o.MaxBodyBytes,
		DirectBase:        directBase,
		MaxPerRequest:     o.MaxServersPerRequest,
		IdentityNamespace: o.IdentityNamespace,
		TokenTTL:          o.TokenTTL,
		KeyRotation:       o.KeyRotation,
		ImageStoreDir:     o.ImageStoreDir,
		ImageMaxBytes:     o.ImageMaxBytes,
	}, nil
}

// directEndpoint is the base URL of direct clients' links: --public-endpoint, or https://
// and the address the direct listener is on when it names a host.
func (o *Options) directEndpoint() (string, error) {
	if o.PublicEndpoint != "" {
		u, err := url.Parse(o.PublicEndpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("--public-endpoint %q: want an http(s)://host[:port][/path] URL", o.PublicEndpoint)
		}
		return strings.TrimSuffix(o.PublicEndpoint, "/"), nil
	}
	addr := o.DirectBindAddress
	if o.DirectListener != nil {
		addr = o.DirectListener.Addr().String()
	}
	if addr == "" {
		return "", nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--direct-bind-address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "", fmt.Errorf("--public-endpoint is required when --direct-bind-address %q listens on every address: links in answers need the name clients use", addr)
	}
	return "https://" + addr, nil
}

func loadRESTConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig and not in a cluster: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading --kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

// Run builds the server from the options and serves until ctx ends.
func (o *Options) Run(ctx context.Context, nova Nova) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	srv, err := cfg.New(nova)
	if err != nil {
		return err
	}
	if o.PprofBindAddress != "" {
		if err := servePprof(ctx, o.PprofBindAddress); err != nil {
			return err
		}
	}
	return srv.Run(ctx)
}

// LoopbackOptions are the options of a server on listeners the caller opened on loopback
// (the tests and the local stack): both ways in, a self-signed certificate in certDir,
// kube-apiserver reached with kubeconfig, and front-proxy requests trusted from caFile's
// allowed names. A denial is remembered for a second only, as RoleBindings come and go.
func LoopbackOptions(secure, direct net.Listener, certDir, kubeconfig, caFile string, allowedNames []string) *Options {
	o := NewOptions()
	o.SecureServing.Listener = secure
	o.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.SecureServing.BindPort = secure.Addr().(*net.TCPAddr).Port
	o.SecureServing.ServerCert.CertDirectory = certDir
	o.DirectListener = direct
	o.Kubeconfig = kubeconfig
	o.Authentication.RequestHeader.ClientCAFile, o.Authentication.RequestHeader.AllowedNames = caFile, allowedNames
	o.Authorization.DenyCacheTTL = time.Second
	o.Complete()
	return o
}
