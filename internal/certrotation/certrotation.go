// Package certrotation keeps the serving certificates of Kova's webhooks and of nova-api
// valid in a cluster with open-policy-agent/cert-controller's rotator (as Gatekeeper does):
// no CA code of Kova's own.
//
// One Secret holds a CA and a serving certificate valid for both the webhook Service and
// the nova-api Service. The manager serves its webhooks from the Secret mounted at
// --webhook-cert-dir (controller-runtime reloads the files when they change), nova-api from
// the same Secret's tls.crt and tls.key (k8s.io/apiserver reloads --tls-cert-file too),
// and the rotator writes the CA into the caBundle of both webhook configurations and of
// the APIService, before the certificate expires and whenever someone resets it.
package certrotation

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

// What the rotator reads and writes: its Secret (in the manager's namespace only), the
// caBundle of Kova's own webhook configurations and APIService (update by name only; the
// rotator's cache lists and watches them, which RBAC cannot narrow by name).
//
// +kubebuilder:rbac:groups="",namespace=kova-system,resources=secrets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=update,resourceNames=kova-mutating-webhook-configuration
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=update,resourceNames=kova-validating-webhook-configuration
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiregistration.k8s.io,resources=apiservices,verbs=update,resourceNames=v1.nova.kova.dev

// Options say whether to rotate, and what.
type Options struct {
	// Enabled runs the rotator; off, the certificates come from elsewhere (make run, tests).
	Enabled bool
	// Secret is where the CA and the serving certificate live; it must exist.
	Secret types.NamespacedName
	// MutatingWebhook, ValidatingWebhook and APIService are the configurations whose
	// caBundle the rotator sets; an empty APIService means none.
	MutatingWebhook, ValidatingWebhook, APIService string
	// DNSNames are the names the certificate is valid for.
	DNSNames []string
}

// Defaults are the names config/default uses.
func Defaults() Options {
	return Options{
		Secret:            types.NamespacedName{Namespace: "kova-system", Name: "kova-serving-cert"},
		MutatingWebhook:   "kova-mutating-webhook-configuration",
		ValidatingWebhook: "kova-validating-webhook-configuration",
		APIService:        "v1.nova.kova.dev",
		DNSNames:          []string{"kova-webhook-service.kova-system.svc", "nova-api.kova-system.svc"},
	}
}

// BindFlags adds the options to fs, with Defaults as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	d := Defaults()
	fs.BoolVar(&o.Enabled, "cert-rotation", false,
		"Make and rotate the serving certificate of the webhooks and nova-api in --cert-secret and inject its CA into the webhook configurations and the APIService (off when the certificates come from elsewhere, as in make run).")
	fs.StringVar(&o.Secret.Namespace, "cert-secret-namespace", d.Secret.Namespace, "Namespace of --cert-secret.")
	fs.StringVar(&o.Secret.Name, "cert-secret", d.Secret.Name, "Secret the cert rotator keeps the CA and the serving certificate in; it must exist.")
	fs.StringVar(&o.MutatingWebhook, "mutating-webhook-configuration", d.MutatingWebhook, "MutatingWebhookConfiguration whose caBundle the cert rotator sets.")
	fs.StringVar(&o.ValidatingWebhook, "validating-webhook-configuration", d.ValidatingWebhook, "ValidatingWebhookConfiguration whose caBundle the cert rotator sets.")
	fs.StringVar(&o.APIService, "api-service", d.APIService, "APIService whose caBundle the cert rotator sets; empty for none.")
	o.DNSNames = d.DNSNames
	fs.Func("cert-dns-names", "Comma-separated names the serving certificate is valid for (default "+strings.Join(d.DNSNames, ",")+").",
		func(s string) error {
			o.DNSNames = nil
			for _, n := range strings.Split(s, ",") {
				if n = strings.TrimSpace(n); n != "" {
					o.DNSNames = append(o.DNSNames, n)
				}
			}
			if len(o.DNSNames) == 0 {
				return errors.New("want at least one name")
			}
			return nil
		})
}

// StartWebhooks registers the webhooks (setup) once their certificate is in place: at once
// without the rotator, else when the rotator has written the Secret, seen it mounted in
// certDir and injected the CA, since the webhook server reads its certificate when it
// starts. The returned readiness check fails until then, so the Service sends no admission
// request to a replica without a certificate.
func StartWebhooks(mgr ctrl.Manager, o Options, certDir string, setup func() error) (healthz.Checker, error) {
	if !o.Enabled {
		if err := setup(); err != nil {
			return nil, err
		}
		return mgr.GetWebhookServer().StartedChecker(), nil
	}
	if len(o.DNSNames) == 0 {
		return nil, errors.New("cert rotation: no DNS name for the certificate")
	}
	if certDir == "" { // controller-runtime's default
		certDir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	webhooks := []rotator.WebhookInfo{
		{Name: o.MutatingWebhook, Type: rotator.Mutating},
		{Name: o.ValidatingWebhook, Type: rotator.Validating},
	}
	if o.APIService != "" {
		webhooks = append(webhooks, rotator.WebhookInfo{Name: o.APIService, Type: rotator.APIService})
	}
	ready := make(chan struct{})
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      o.Secret,
		CertDir:        certDir,
		CAName:         "kova-ca",
		CAOrganization: "kova",
		DNSName:        o.DNSNames[0],
		ExtraDNSNames:  o.DNSNames[1:],
		IsReady:        ready,
		Webhooks:       webhooks,
		// Every replica serves webhooks, leader or not.
		RequireLeaderElection: false,
		FieldOwner:            "kova-cert-rotator",
	}); err != nil {
		return nil, err
	}
	var started atomic.Pointer[healthz.Checker]
	go func() {
		<-ready
		if err := setup(); err != nil {
			ctrl.Log.WithName("certrotation").Error(err, "Failed to set up the webhooks")
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
