// Package impersonate hands out Kubernetes clients that act as a given user. The REST shim
// writes with them, so the API server applies that user's RBAC and the admission webhooks
// record the real requester (who asked for an action, whether they may override a lock),
// not the shim's own identity.
package impersonate

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxClients bounds the clients kept; past it the cache starts afresh.
const maxClients = 1024

// Clients makes and keeps one client per user, all sharing a scheme and REST mapper.
type Clients struct {
	base   *rest.Config
	scheme *runtime.Scheme
	mapper meta.RESTMapper

	mu      sync.Mutex
	clients map[string]client.Client
}

// New returns Clients over base, whose identity must be allowed to impersonate users,
// groups, service accounts and user extras.
func New(base *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) *Clients {
	return &Clients{base: base, scheme: scheme, mapper: mapper, clients: map[string]client.Client{}}
}

// For returns a client that acts as u.
func (c *Clients) For(u user.Info) (client.Client, error) {
	if u == nil || u.GetName() == "" {
		return nil, fmt.Errorf("no user to act as")
	}
	key := cacheKey(u)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	cfg := rest.CopyConfig(c.base)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(), Extra: u.GetExtra(),
	}
	cl, err := client.New(cfg, client.Options{Scheme: c.scheme, Mapper: c.mapper})
	if err != nil {
		return nil, err
	}
	if len(c.clients) >= maxClients {
		c.clients = map[string]client.Client{}
	}
	c.clients[key] = cl
	return cl, nil
}

func cacheKey(u user.Info) string {
	groups := append([]string(nil), u.GetGroups()...)
	sort.Strings(groups)
	var extra []string
	for k, v := range u.GetExtra() {
		extra = append(extra, k+"="+strings.Join(v, ","))
	}
	sort.Strings(extra)
	return strings.Join([]string{u.GetName(), u.GetUID(), strings.Join(groups, ","), strings.Join(extra, ";")}, "\x00")
}
