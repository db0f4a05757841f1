package novaserver

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reads past the informer cache (internal/novaapi/consistency.go: what a client may have
// just written, through any replica) are a few small requests per API call, made for the
// callers; they get a client of their own so that they never wait behind a rate limit set
// for the writes (--kube-api-qps) nor use it up. kube-apiserver's API Priority and Fairness
// is what bounds them: client-go's own limiter is off (a negative QPS).
const liveReadQPS = -1

// newLiveReader is the client the Nova handler reads past the cache with.
func newLiveReader(cfg *rest.Config, scheme *runtime.Scheme) (client.Reader, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = liveReadQPS
	cfg.UserAgent += " (reads)"
	return client.New(cfg, client.Options{Scheme: scheme})
}
