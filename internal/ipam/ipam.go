// Package ipam hands out the addresses of a Network. Each address held is one FixedIP
// object named after the address, so the API server's guarantee that names are unique is
// the lock: two servers racing for one address cannot both create its object.
package ipam

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// ErrExhausted means every address of the network is held.
var ErrExhausted = errors.New("no more IP addresses available")

// ErrInUse means a requested fixed address is held by another server.
var ErrInUse = errors.New("address already in use")

// maxProbes bounds how many taken addresses one allocation steps over before it lists the
// network to find a free one.
const maxProbes = 8

// Holder is the server an address is for.
type Holder struct {
	Namespace, Name, UID string
}

// Pool is the usable range of a network: its CIDR less the network address, the broadcast
// address (IPv4) and the gateway.
type Pool struct {
	Prefix  netip.Prefix
	Gateway netip.Addr
}

// NewPool parses a network's spec.
func NewPool(n *computev1.Network) (Pool, error) {
	p, err := netip.ParsePrefix(n.Spec.CIDR)
	if err != nil {
		return Pool{}, fmt.Errorf("network %s has an invalid CIDR %q: %w", n.Name, n.Spec.CIDR, err)
	}
	p = p.Masked()
	gw := p.Addr().Next()
	if n.Spec.Gateway != "" {
		if gw, err = netip.ParseAddr(n.Spec.Gateway); err != nil {
			return Pool{}, fmt.Errorf("network %s has an invalid gateway %q: %w", n.Name, n.Spec.Gateway, err)
		}
	}
	return Pool{Prefix: p, Gateway: gw}, nil
}

// size is the number of addresses in the prefix.
func (p Pool) size() *big.Int {
	bits := p.Prefix.Addr().BitLen() - p.Prefix.Bits()
	return new(big.Int).Lsh(big.NewInt(1), uint(bits))
}

// Capacity is how many addresses servers can hold.
func (p Pool) Capacity() int64 {
	n := p.size()
	n.Sub(n, big.NewInt(1)) // network address
	if p.Prefix.Addr().Is4() {
		n.Sub(n, big.NewInt(1)) // broadcast
	}
	if p.Contains(p.Gateway) {
		n.Sub(n, big.NewInt(1))
	}
	if n.Sign() < 0 || !n.IsInt64() {
		if n.Sign() < 0 {
			return 0
		}
		return 1<<62 - 1
	}
	return n.Int64()
}

// nth is the address at offset i from the network address.
func (p Pool) nth(i *big.Int) netip.Addr {
	base := new(big.Int).SetBytes(p.Prefix.Addr().AsSlice())
	base.Add(base, i)
	b := base.Bytes()
	out := make([]byte, p.Prefix.Addr().BitLen()/8)
	copy(out[len(out)-len(b):], b)
	a, _ := netip.AddrFromSlice(out)
	return a
}

// Contains says whether a is an address a server may hold.
func (p Pool) Contains(a netip.Addr) bool {
	if !p.Prefix.Contains(a) || a == p.Prefix.Addr() {
		return false
	}
	if p.Prefix.Addr().Is4() && p.Prefix.Bits() < 31 && a == p.nth(new(big.Int).Sub(p.size(), big.NewInt(1))) {
		return false
	}
	return true
}

func (p Pool) usable(a netip.Addr) bool { return p.Contains(a) && a != p.Gateway }

// candidate is where a holder starts looking: a hash of its uid spread over the range, so
// concurrent builds rarely probe the same address.
func (p Pool) candidate(uid string, attempt int) netip.Addr {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", uid, attempt)))
	n := new(big.Int).SetBytes(h[:16])
	n.Mod(n, p.size())
	return p.nth(n)
}

// ObjectName is the FixedIP name for an address on a network.
func ObjectName(network string, a netip.Addr) string {
	return network + "." + strings.ReplaceAll(a.String(), ":", "-")
}

// MAC derives a stable, locally administered MAC address for a holder's port.
func MAC(uid, network string) string {
	h := sha256.Sum256([]byte(uid + "/" + network))
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", h[0], h[1], h[2])
}

// Allocator allocates and releases addresses.
type Allocator struct {
	// Client creates and deletes FixedIPs.
	Client client.Client
	// Reader lists FixedIPs; use an uncached reader so an address created just before a
	// crash is seen after it.
	Reader client.Reader
}

// Allocate gives holder one address on network n: want if set, else a free one. It is
// idempotent without a LIST: candidates come in an order fixed by the holder's uid, so a
// retry (after a crash, say) meets the address it already took and takes it back.
func (a *Allocator) Allocate(ctx context.Context, n *computev1.Network, h Holder, want string) (*computev1.FixedIP, error) {
	pool, err := NewPool(n)
	if err != nil {
		return nil, err
	}
	if want != "" {
		addr, err := netip.ParseAddr(want)
		if err != nil || !pool.usable(addr) {
			return nil, fmt.Errorf("fixed IP address %s is not a usable address of network %s (%s)", want, n.Name, n.Spec.CIDR)
		}
		ip, mine, err := a.claim(ctx, n, h, addr)
		if err == nil && !mine {
			return nil, fmt.Errorf("%w: fixed IP address %s is already in use on network %s", ErrInUse, want, n.Name)
		}
		return ip, err
	}
	for attempt := 0; attempt < maxProbes; attempt++ {
		addr := pool.candidate(h.UID, attempt)
		if !pool.usable(addr) {
			continue
		}
		ip, mine, err := a.claim(ctx, n, h, addr)
		if err != nil || mine {
			return ip, err
		}
	}
	// The network is crowded: list what is taken (and whether one is already ours) and
	// walk the range from the start.
	taken, err := a.taken(ctx, n, h.UID)
	if err != nil {
		return nil, err
	}
	if ours, ok := taken[netip.Addr{}]; ok {
		return ours, nil
	}
	if int64(len(taken)) >= pool.Capacity() {
		return nil, ErrExhausted
	}
	for addr := pool.Prefix.Addr().Next(); pool.Prefix.Contains(addr); addr = addr.Next() {
		if !pool.usable(addr) || taken[addr] != nil {
			continue
		}
		ip, mine, err := a.claim(ctx, n, h, addr)
		if err != nil || mine {
			return ip, err
		}
	}
	return nil, ErrExhausted
}

// claim creates the FixedIP for addr. mine is true when holder has it, newly or from
// before; false when another server holds it.
func (a *Allocator) claim(ctx context.Context, n *computev1.Network, h Holder, addr netip.Addr) (*computev1.FixedIP, bool, error) {
	ip, err := a.create(ctx, n, h, addr)
	if err == nil {
		return ip, true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, false, err
	}
	existing := &computev1.FixedIP{}
	if err := a.Reader.Get(ctx, client.ObjectKeyFromObject(ip), existing); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil // released in between: the next candidate will do
		}
		return nil, false, err
	}
	if existing.Spec.ServerUID == h.UID {
		return existing, true, nil
	}
	return nil, false, nil
}

// taken maps each held address of n to its FixedIP; one the holder uid has already is
// also under the zero address.
func (a *Allocator) taken(ctx context.Context, n *computev1.Network, uid string) (map[netip.Addr]*computev1.FixedIP, error) {
	var list computev1.FixedIPList
	if err := a.Reader.List(ctx, &list, client.InNamespace(n.Namespace),
		client.MatchingLabels{computev1.LabelNetwork: n.Name}); err != nil {
		return nil, err
	}
	out := make(map[netip.Addr]*computev1.FixedIP, len(list.Items))
	for i := range list.Items {
		ip := &list.Items[i]
		if addr, err := netip.ParseAddr(ip.Spec.Address); err == nil {
			out[addr] = ip
		}
		if ip.Spec.ServerUID == uid {
			out[netip.Addr{}] = ip
		}
	}
	return out, nil
}

func (a *Allocator) create(ctx context.Context, n *computev1.Network, h Holder, addr netip.Addr) (*computev1.FixedIP, error) {
	ip := &computev1.FixedIP{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ObjectName(n.Name, addr),
			Namespace: n.Namespace,
			Labels: map[string]string{
				computev1.LabelNetwork:   n.Name,
				computev1.LabelServerUID: h.UID,
			},
		},
		Spec: computev1.FixedIPSpec{
			Network:         n.Name,
			Address:         addr.String(),
			ServerNamespace: h.Namespace,
			ServerName:      h.Name,
			ServerUID:       h.UID,
			MACAddress:      MAC(h.UID, n.Name),
		},
	}
	return ip, a.Client.Create(ctx, ip)
}

// Release frees every address holder has in namespace ns (a server's own namespace and,
// for shared networks, the public one).
func (a *Allocator) Release(ctx context.Context, ns, uid string) error {
	return client.IgnoreNotFound(a.Client.DeleteAllOf(ctx, &computev1.FixedIP{}, client.InNamespace(ns),
		client.MatchingLabels{computev1.LabelServerUID: uid}))
}
