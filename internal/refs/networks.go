package refs

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// NetworkInUseError is a network some servers use, in Nova's words (NetworkInUse) with the
// servers named for kubectl's user.
type NetworkInUseError struct {
	ID      string
	Servers []string
}

func (e *NetworkInUseError) Error() string {
	const shown = 5
	names := e.Servers[:min(len(e.Servers), shown)]
	more := ""
	if len(e.Servers) > shown {
		more = fmt.Sprintf(" and %d more", len(e.Servers)-shown)
	}
	return fmt.Sprintf("Network %s is still in use (servers %s%s).", e.ID, strings.Join(names, ", "), more)
}

// NetworkUsers lists the servers that use n (rules.ServersUsingNetwork): those of its
// namespace, or of every namespace for a shared network of the public namespace.
func NetworkUsers(ctx context.Context, r client.Reader, n *computev1.Network, publicNamespace string) ([]string, error) {
	var opts []client.ListOption
	if n.Namespace != publicNamespace {
		opts = append(opts, client.InNamespace(n.Namespace))
	}
	var list computev1.ServerList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	return rules.ServersUsingNetwork(list.Items, n, publicNamespace), nil
}

// FloatingIPPool is the external network in the public namespace a floating IP pool's name
// means: its metadata.name, id or label (Nova's pool is the network's name).
func FloatingIPPool(ctx context.Context, c client.Reader, publicNS, pool string) (*computev1.Network, error) {
	var list computev1.NetworkList
	if err := c.List(ctx, &list, client.InNamespace(publicNS)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		n := &list.Items[i]
		if n.Spec.External && (n.Name == pool || n.NovaID() == pool || n.DisplayName() == pool) {
			return n, nil
		}
	}
	return nil, &NotFoundError{Message: "Floating IP pool not found."}
}
