// Command nova-api is Kova's REST shim: it serves the OpenStack Compute (Nova) API, and the
// Rackspace Cloud Servers paths beside it, over the compute.kova.dev resources.
//
// It is an aggregated API server (APIService v1.nova.kova.dev) with no storage of its own:
// kube-apiserver proxies /apis/nova.kova.dev/v1/namespaces/{tenant}/... to --secure-port,
// and OpenStack clients that cannot go through kube-apiserver call /v2.1/{tenant}/... on
// --direct-bind-address with a Kubernetes bearer token in X-Auth-Token. Both ways are
// authenticated (front-proxy headers, TokenReview) and authorized (SubjectAccessReview)
// by kube-apiserver, so RBAC decides who may do what (config/rbac/user_roles.yaml).
package main

import (
	goflag "flag"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/novaserver"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run returns the process exit status.
func run(args []string) int {
	o, err := parseFlags(args)
	if err == pflag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nova-api:", err)
		return 2
	}
	ctrllog.SetLogger(klog.NewKlogr())
	// The first SIGINT or SIGTERM stops the server gracefully, a second one exits at once.
	ctx := genericapiserver.SetupSignalContext()
	if err := o.Run(ctx, novaserver.NovaAPI()); err != nil {
		klog.ErrorS(err, "nova-api failed")
		return 1
	}
	return 0
}

func parseFlags(args []string) (*novaserver.Options, error) {
	o := novaserver.NewOptions()
	fs := pflag.NewFlagSet("nova-api", pflag.ContinueOnError)
	o.AddFlags(fs)
	logFlags := goflag.NewFlagSet("klog", goflag.ContinueOnError)
	klog.InitFlags(logFlags)
	for _, name := range []string{"v", "vmodule"} {
		fs.AddGoFlag(logFlags.Lookup(name))
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	o.Complete()
	return o, o.Validate()
}
