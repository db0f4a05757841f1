package failover

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// balancer stands for the webhook Service in front of the two managers: it takes each
// connection on one address and passes it to the replicas in turn, skipping one that
// refuses connections, as kube-proxy does once a dead pod's endpoint is gone. So the
// webhooks are served by both managers, and by the survivor alone after the kill.
type balancer struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
	served   []atomic.Int64 // connections passed to each backend
	wg       sync.WaitGroup
}

func newBalancer(addr string, backends ...string) (*balancer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &balancer{ln: ln, backends: backends, served: make([]atomic.Int64, len(backends))}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

func (b *balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go b.pass(c)
	}
}

func (b *balancer) pass(c net.Conn) {
	defer func() { _ = c.Close() }()
	start := int(b.next.Add(1))
	for i := range b.backends {
		n := (start + i) % len(b.backends)
		up, err := net.DialTimeout("tcp", b.backends[n], time.Second)
		if err != nil {
			continue
		}
		b.served[n].Add(1)
		done := make(chan struct{})
		go func() {
			_, _ = io.Copy(up, c)
			_ = up.Close() // the caller closed: so does the replica's side
			close(done)
		}()
		_, _ = io.Copy(c, up)
		// The replica closed (or died): so does the connection it served.
		_ = up.Close()
		_ = c.Close()
		<-done
		return
	}
}

func (b *balancer) Close() {
	_ = b.ln.Close()
	b.wg.Wait()
}
