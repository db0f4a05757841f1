package novaserver

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reads past the informer cache (internal/novaapi/consistency.go: what a client may have
// just written, through any replica) are a few small requests per API call, made for the
// callers; they get a client of their own so that they neither wait behind the writes' and
// reviews' rate limit (--kube-api-qps) nor use it up. kube-apiserver's priority and fairness
// is what bounds them there; this limit only stops a runaway.
const (
	liveReadQPS   = 1000
	liveReadBurst = 2000
)

// newLiveReader is the client the Nova handler reads past the cache with.
func newLiveReader(cfg *rest.Config, scheme *runtime.Scheme) (client.Reader, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = liveReadQPS, liveReadBurst
	cfg.UserAgent += " (reads)"
	return client.New(cfg, client.Options{Scheme: scheme})
}
