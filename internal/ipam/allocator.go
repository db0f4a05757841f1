// Package ipam hands out the addresses of Networks without an API write per address.
//
// The record of which server holds which address is the server itself: its status lists its
// addresses, each naming the Network object it is from, and the server controller writes
// that status once per boot anyway. The Allocator is an in-memory index of those records,
// built once per process from one consistent (uncached, paginated) LIST of the servers
// before the first address is handed out or given back, and kept by the process from then
// on. An address is reserved under the server's UID the moment it is handed out, before the
// status that records it is written, so a retry (a conflict on the status write, a requeue)
// gets the same address back and two servers never get one. A process that dies between
// handing an address out and writing the status loses only the reservation: the server
// shows no address, and the next process gives it one afresh. Nothing leaks: an address is
// held exactly while some server's status (or this process's reservation) says so.
//
// Two processes must not hand out addresses at once: that is what leader election is for
// (only the elected manager reconciles servers), and a new leader builds its index with a
// LIST made after it won the lease, so it sees every status the old leader wrote; a leader
// that cannot renew its lease stops before the lease can pass on (controller-runtime's
// renewDeadline < leaseDuration). Claiming blocks of addresses with one object per block
// was the alternative: it costs a write per block and still does not fence a leader that
// outlives its lease unless every allocation re-reads its block, a read per server.
// The FixedIP objects that used to record each address (one create per boot, plus a LIST
// per network count) are gone for the same reason.
package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// ErrExhausted means every address of the network is held.
var ErrExhausted = errors.New("no more IP addresses available")

// ErrInUse means a requested fixed address is held by another server.
var ErrInUse = errors.New("address already in use")

// Ref names a Network object.
type Ref struct {
	Namespace, Name string
}

// RefOf is the Ref of a network.
func RefOf(n *computev1.Network) Ref { return Ref{Namespace: n.Namespace, Name: n.Name} }

// Holding is one address a server holds, as its status records it.
type Holding struct {
	Network Ref
	Address netip.Addr
	UID     string
}

// Loader reads every address servers hold. It must read past any cache (a consistent
// LIST), so that it sees what an earlier process wrote just before it stopped.
type Loader func(context.Context) ([]Holding, error)

// Allocator allocates and releases addresses; it is safe for concurrent use.
type Allocator struct {
	load     Loader
	onChange atomic.Pointer[func(Ref)]

	mu     sync.Mutex
	loaded bool
	nets   map[Ref]*network
	byUID  map[string][]held
}

// network is what is held of one Network.
type network struct {
	held map[netip.Addr]string // address -> holder uid
	next netip.Addr            // where the next search starts
}

type held struct {
	net  Ref
	addr netip.Addr
}

// New returns an allocator that builds its index with load on first use.
func New(load Loader) *Allocator {
	return &Allocator{load: load, nets: map[Ref]*network{}, byUID: map[string][]held{}}
}

// OnChange sets f to be called (without locks held) with each network whose count of held
// addresses changed from then on.
func (a *Allocator) OnChange(f func(Ref)) { a.onChange.Store(&f) }

func (a *Allocator) changed(refs ...Ref) {
	f := a.onChange.Load()
	if f == nil {
		return
	}
	for _, r := range refs {
		(*f)(r)
	}
}

// ensureLoaded builds the index once; the caller holds a.mu.
func (a *Allocator) ensureLoaded(ctx context.Context) error {
	if a.loaded {
		return nil
	}
	hs, err := a.load(ctx)
	if err != nil {
		return fmt.Errorf("reading the addresses servers hold: %w", err)
	}
	for _, h := range hs {
		a.hold(h.Network, h.Address, h.UID)
	}
	a.loaded = true
	return nil
}

func (a *Allocator) net(ref Ref) *network {
	n := a.nets[ref]
	if n == nil {
		n = &network{held: map[netip.Addr]string{}}
		a.nets[ref] = n
	}
	return n
}

func (a *Allocator) hold(ref Ref, addr netip.Addr, uid string) {
	n := a.net(ref)
	if _, taken := n.held[addr]; !taken {
		n.held[addr] = uid
	}
	a.byUID[uid] = append(a.byUID[uid], held{net: ref, addr: addr})
}

// holding is the address uid holds on ref, if any.
func (a *Allocator) holding(ref Ref, uid string) (netip.Addr, bool) {
	for _, h := range a.byUID[uid] {
		if h.net == ref {
			return h.addr, true
		}
	}
	return netip.Addr{}, false
}

// Allocate gives the server uid one address on network n: want if set, else a free one.
// It is idempotent: a server that already holds an address on n gets it back.
func (a *Allocator) Allocate(ctx context.Context, n *computev1.Network, uid, want string) (netip.Addr, error) {
	pool, err := rules.NewPool(n)
	if err != nil {
		return netip.Addr{}, err
	}
	var wantAddr netip.Addr
	if want != "" {
		if wantAddr, err = netip.ParseAddr(want); err != nil || !pool.Usable(wantAddr) {
			return netip.Addr{}, fmt.Errorf("fixed IP address %s is not a usable address of network %s (%s)", want, n.Name, n.Spec.CIDR)
		}
	}
	ref := RefOf(n)
	a.mu.Lock()
	addr, err := a.allocate(ctx, ref, pool, uid, wantAddr)
	a.mu.Unlock()
	if err == nil {
		a.changed(ref)
	}
	return addr, err
}

func (a *Allocator) allocate(ctx context.Context, ref Ref, pool rules.Pool, uid string, want netip.Addr) (netip.Addr, error) {
	if err := a.ensureLoaded(ctx); err != nil {
		return netip.Addr{}, err
	}
	if have, ok := a.holding(ref, uid); ok && (!want.IsValid() || have == want) {
		return have, nil
	}
	st := a.net(ref)
	if want.IsValid() {
		if holder, taken := st.held[want]; taken && holder != uid {
			return netip.Addr{}, fmt.Errorf("%w: fixed IP address %s is already in use on network %s", ErrInUse, want, ref.Name)
		}
		a.hold(ref, want, uid)
		return want, nil
	}
	if int64(len(st.held)) >= pool.Capacity() {
		return netip.Addr{}, ErrExhausted
	}
	// Walk on from the last address handed out, wrapping around: within len(held) plus the
	// three unusable addresses (network, gateway, broadcast) there is a free one.
	addr := st.next
	if !pool.Prefix.Contains(addr) {
		addr = pool.First()
	}
	for range len(st.held) + 4 {
		if _, taken := st.held[addr]; !taken && pool.Usable(addr) {
			a.hold(ref, addr, uid)
			st.next = addr.Next()
			return addr, nil
		}
		if addr = addr.Next(); !pool.Prefix.Contains(addr) {
			addr = pool.First()
		}
	}
	return netip.Addr{}, ErrExhausted
}

// Release frees every address the server uid holds, on every network.
func (a *Allocator) Release(ctx context.Context, uid string) error {
	a.mu.Lock()
	if err := a.ensureLoaded(ctx); err != nil {
		a.mu.Unlock()
		return err
	}
	hs := a.byUID[uid]
	delete(a.byUID, uid)
	refs := make([]Ref, 0, len(hs))
	for _, h := range hs {
		if st := a.nets[h.net]; st != nil && st.held[h.addr] == uid {
			delete(st.held, h.addr)
		}
		refs = append(refs, h.net)
	}
	a.mu.Unlock()
	a.changed(refs...)
	return nil
}

// Held is what the server uid holds, as "namespace/network=address" strings.
func (a *Allocator) Held(ctx context.Context, uid string) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(a.byUID[uid]))
	for _, h := range a.byUID[uid] {
		out = append(out, h.net.Namespace+"/"+h.net.Name+"="+h.addr.String())
	}
	return out, nil
}

// Allocated is how many addresses of a network are held.
func (a *Allocator) Allocated(ctx context.Context, ref Ref) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ensureLoaded(ctx); err != nil {
		return 0, err
	}
	if st := a.nets[ref]; st != nil {
		return int64(len(st.held)), nil
	}
	return 0, nil
}

// ReleaseOn frees the address the server uid holds on one network: an interface detached,
// or one whose attach failed. The server's other addresses stay.
func (a *Allocator) ReleaseOn(ctx context.Context, uid string, ref Ref) error {
	a.mu.Lock()
	if err := a.ensureLoaded(ctx); err != nil {
		a.mu.Unlock()
		return err
	}
	kept := a.byUID[uid][:0]
	for _, h := range a.byUID[uid] {
		if h.net != ref {
			kept = append(kept, h)
			continue
		}
		if st := a.nets[h.net]; st != nil && st.held[h.addr] == uid {
			delete(st.held, h.addr)
		}
	}
	if len(kept) == 0 {
		delete(a.byUID, uid)
	} else {
		a.byUID[uid] = kept
	}
	a.mu.Unlock()
	a.changed(ref)
	return nil
}
