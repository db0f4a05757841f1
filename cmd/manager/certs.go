package main

import (
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// What the cert rotator keeps valid in a cluster (config/default): one Secret holding a CA
// and a serving certificate for both the webhook Service and the nova-api Service. The
// manager serves its webhooks from the Secret mounted at --webhook-cert-dir (controller-
// runtime reloads the files when they change) and nova-api from the same Secret's tls.crt
// and tls.key (k8s.io/apiserver reloads --tls-cert-file too); the rotator writes the CA into
// the caBundle of both webhook configurations and of the APIService.
//
// +kubebuilder:rbac:groups="",namespace=kova-system,resources=secrets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=update,resourceNames=kova-mutating-webhook-configuration
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=update,resourceNames=kova-validating-webhook-configuration
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=update,resourceNames=v1.nova.kova.dev

// certOptions are the cert rotator's flags.
type certOptions struct {
	enabled         bool
	secretNamespace string
	secretName      string
	mutating        string
	validating      string
	apiService      string
	dnsNames        []string
}

func (c *certOptions) bindFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.enabled, "cert-rotation", false,
		"Make and rotate the serving certificates of the webhooks and nova-api in --cert-secret, and inject their CA into the webhook configurations and the APIService (off when certificates come from elsewhere, as in make run).")
	fs.StringVar(&c.secretNamespace, "cert-secret-namespace", "kova-system", "Namespace of --cert-secret.")
	fs.StringVar(&c.secretName, "cert-secret", "kova-serving-cert", "Secret the cert rotator keeps the CA and serving certificate in.")
	fs.StringVar(&c.mutating, "mutating-webhook-configuration", "kova-mutating-webhook-configuration", "MutatingWebhookConfiguration whose caBundle the cert rotator sets.")
	fs.StringVar(&c.validating, "validating-webhook-configuration", "kova-validating-webhook-configuration", "ValidatingWebhookConfiguration whose caBundle the cert rotator sets.")
	fs.StringVar(&c.apiService, "api-service", "v1.nova.kova.dev", "APIService whose caBundle the cert rotator sets; empty for none.")
	c.dnsNames = []string{"kova-webhook-service.kova-system.svc", "nova-api.kova-system.svc"}
	fs.Func("cert-dns-names", `Comma-separated names the serving certificate is valid for, first the webhook Service's (default "kova-webhook-service.kova-system.svc,nova-api.kova-system.svc").`,
		func(s string) error {
			c.dnsNames = splitNonEmpty(s)
			if len(c.dnsNames) == 0 {
				return errors.New("want at least one name")
			}
			return nil
		})
}

// startWebhooks registers the webhooks once their certificate is in place: at once without
// the rotator, else when the rotator has written the Secret, seen it mounted in certDir and
// injected the CA (the webhook server reads its certificate when it starts). The returned
// readiness check fails until then, so no Service sends admission requests to a replica
// without a certificate.
func startWebhooks(mgr ctrl.Manager, c certOptions, certDir string, setup func() error) (healthz.Checker, error) {
	if certDir == "" { // controller-runtime's default
		certDir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	ready := make(chan struct{})
	if !c.enabled {
		close(ready)
	} else {
		webhooks := []rotator.WebhookInfo{
			{Name: c.mutating, Type: rotator.Mutating},
			{Name: c.validating, Type: rotator.Validating},
		}
		if c.apiService != "" {
			webhooks = append(webhooks, rotator.WebhookInfo{Name: c.apiService, Type: rotator.APIService})
		}
		if err := rotator.AddRotator(mgr, &rotator.CertRotator{
			SecretKey:      types.NamespacedName{Namespace: c.secretNamespace, Name: c.secretName},
			CertDir:        certDir,
			CAName:         "kova-ca",
			CAOrganization: "kova",
			DNSName:        c.dnsNames[0],
			ExtraDNSNames:  c.dnsNames[1:],
			IsReady:        ready,
			Webhooks:       webhooks,
			// Every replica serves webhooks, leader or not.
			RequireLeaderElection: false,
			FieldOwner:            "kova-cert-rotator",
		}); err != nil {
			return nil, err
		}
	}
	var started atomic.Pointer[healthz.Checker]
	go func() {
		<-ready
		if err := setup(); err != nil {
			ctrl.Log.WithName("setup").Error(err, "Failed to set up the webhooks")
			os.Exit(1)
		}
		check := mgr.GetWebhookServer().StartedChecker()
		started.Store(&check)
	}()
	return func(req *http.Request) error {
		if check := started.Load(); check != nil {
			return (*check)(req)
		}
		return errors.New("waiting for the webhooks' serving certificate")
	}, nil
}

func splitNonEmpty(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
