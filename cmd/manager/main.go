// Command manager runs Kova's controllers and admission webhooks.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/cachetrim"
	"github.com/kova-dev/kova/internal/certrotation"
	kovawebhook "github.com/kova-dev/kova/internal/webhook"
)

func main() {
	var o controllers.Options
	var metricsAddr, probeAddr, pprofAddr, webhookHost, webhookCertDir string
	var webhookPort int
	var leader leaderFlags
	var qps float64
	var burst int
	// No client-side limit by default: the API server's priority and fairness (the flow
	// schemas of config/flowcontrol) decides how much of it the manager gets.
	flag.Float64Var(&qps, "kube-api-qps", -1, "Requests per second the manager may make to the API server; negative for no client-side limit (API Priority and Fairness decides).")
	flag.IntVar(&burst, "kube-api-burst", 0, "Burst of requests the manager may make to the API server (with a positive --kube-api-qps).")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the health probes.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address of Go's pprof endpoints (/debug/pprof), for profiling; empty serves none.")
	leader.bind(flag.CommandLine)
	flag.StringVar(&webhookHost, "webhook-host", "", "Address the admission webhooks listen on.")
	flag.IntVar(&webhookPort, "webhook-port", 9443, "Port the admission webhooks listen on.")
	flag.StringVar(&webhookCertDir, "webhook-cert-dir", "", "Directory with tls.crt and tls.key for the webhooks.")
	o.BindFlags(flag.CommandLine)
	var certs certrotation.Options
	certs.BindFlags(flag.CommandLine)
	var authz kovawebhook.AuthorizationCache
	authz.BindFlags(flag.CommandLine)
	zopts := zap.Options{Development: false}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	must(clientgoscheme.AddToScheme(scheme))
	must(computev1.AddToScheme(scheme))

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(qps), burst
	opts := ctrl.Options{
		Scheme: scheme,
		// Nothing reads managedFields or kubectl's last-applied copy: keep them out of memory;
		// and what cached objects have in common is kept once (every reader of the cache
		// gets a deep copy: nothing here sets client.UnsafeDisableDeepCopy, and the event
		// handlers, predicates and indexers only read).
		Cache:                  cache.Options{DefaultTransform: cachetrim.TransformInterned()},
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: webhookHost, Port: webhookPort, CertDir: webhookCertDir,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }},
		}),
	}
	if err := leader.apply(&opts); err != nil {
		log.Error(err, "Invalid leader election flags")
		os.Exit(2)
	}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		log.Error(err, "Failed to create the manager")
		os.Exit(1)
	}
	if err := controllers.Setup(mgr, o); err != nil {
		log.Error(err, "Failed to set up the controllers")
		os.Exit(1)
	}
	webhooksReady, err := certrotation.StartWebhooks(mgr, certs, webhookCertDir, func() error { return kovawebhook.Setup(mgr, o.PublicNamespace, authz) })
	if err != nil {
		log.Error(err, "Failed to set up the cert rotator")
		os.Exit(1)
	}
	must(mgr.AddHealthzCheck("healthz", healthz.Ping))
	must(mgr.AddReadyzCheck("readyz", webhooksReady))

	log.Info("Started manager", "leaderElect", leader.elect, "driver", "simulated", "stateDir", o.StateDir, "stepLatency", o.StepLatency.String())
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "Manager stopped")
		os.Exit(1)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
