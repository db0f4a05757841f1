package localcp

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// planeCheckInterval is how often etcd and kube-apiserver are checked for life.
const planeCheckInterval = time.Second

// superviseControlPlane starts etcd or kube-apiserver again, after the restart back-off,
// when its port refuses connections, until ctx ends. envtest runs both without telling
// when one exits, but a refused connection on loopback to a port that was listening says
// the process is gone; a busy one still accepts. Both start again on the same port and
// data, and everything connected to them reconnects by itself.
func (c *ControlPlane) superviseControlPlane(ctx context.Context) {
	plane := &c.Env.ControlPlane
	backoff := newRestartBackoff()
	parts := []struct {
		name, addr string
		start      func() error
	}{
		{"etcd", plane.Etcd.URL.Host, plane.Etcd.Start},
		{"kube-apiserver", plane.APIServer.HostPort(), plane.APIServer.Start},
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		for _, p := range parts {
			if !refused(ctx, p.addr) {
				continue
			}
			log := c.log.WithValues("process", p.name, "address", p.addr)
			log.Error(nil, "Process stopped accepting connections; restarting it")
			for {
				backoff.Next(p.name, backoff.Clock.Now())
				delay := backoff.Get(p.name)
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				c.planeMu.Lock()
				err := ctx.Err()
				if err == nil {
					err = p.start()
				}
				c.planeMu.Unlock()
				if ctx.Err() != nil {
					return
				}
				if err == nil {
					log.Info("Restarted the process", "after", delay)
					break
				}
				log.Error(err, "Could not restart the process; trying again")
			}
		}
	}, planeCheckInterval)
}

// refused reports whether a TCP connection to addr is refused.
func refused(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: planeCheckInterval}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	_ = conn.Close()
	return false
}
