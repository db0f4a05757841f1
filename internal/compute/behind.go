package compute

import (
	"context"
	"errors"
	"fmt"

	"github.com/kova-dev/kova/internal/lifecycle"
)

// Notifier is a driver that tells when an instance changed outside any operation Kova
// started (a guest that shut itself down, a crash, an instance removed on the hypervisor),
// as libvirt's lifecycle events tell Nova. The controller re-reads the instance then
// instead of waiting for its next periodic sync.
type Notifier interface {
	// Notify registers fn, called with the instance id after each such change (never
	// with the driver's lock held). A later call replaces fn; nil stops the calls.
	Notify(fn func(id string))
}

// OutOfBand is a change made to an instance behind Kova's back.
type OutOfBand struct {
	// Power is the power state the instance is left in (ignored with Vanish).
	Power lifecycle.PowerState
	// Vanish removes the instance from its host, freeing what it held, as if an
	// operator had undefined the domain.
	Vanish bool
	// Silent sends no event, as when the hypervisor's event is lost: only the periodic
	// sync notices.
	Silent bool
}

// ErrNoHost is returned when a power change is asked of an instance that is not on a
// host (shelved-offloaded, or never placed): there is nothing there to power.
var ErrNoHost = errors.New("compute: the instance is not on a host")

var _ Notifier = (*Simulated)(nil)

// Notify implements Notifier.
func (s *Simulated) Notify(fn func(id string)) {
	s.mu.Lock()
	s.notify = fn
	s.mu.Unlock()
}

// ChangeBehindKova changes instance id as something outside Kova would, with no
// operation: its power, or its very existence. It is for tests and demos of the
// controller's power-state sync. ErrBusy while an operation runs on the instance (the
// controller does not sync a server with a task), ErrNotFound for an unknown id.
func (s *Simulated) ChangeBehindKova(ctx context.Context, id string, ch OutOfBand) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !ch.Vanish && !validPower(ch.Power) {
		return fmt.Errorf("compute: %d is not a power state", ch.Power)
	}
	s.mu.Lock()
	ws := s.advanceActive(s.clock(), nil)
	e := s.insts[id]
	switch {
	case e == nil:
		s.mu.Unlock()
		return withFlush(ErrNotFound, s.flush(ws))
	case e.rec.Op != nil && !e.rec.Op.finished():
		s.mu.Unlock()
		return withFlush(ErrBusy, s.flush(ws))
	case ch.Vanish:
		s.releaseAll(&e.rec)
		delete(s.insts, id)
		ws = s.schedule(ws, id, nil)
	case e.rec.Host == "":
		s.mu.Unlock()
		return withFlush(ErrNoHost, s.flush(ws))
	default:
		e.rec.Power = ch.Power
		ws = s.schedule(ws, id, e)
	}
	notify := s.notify
	s.mu.Unlock()
	if err := s.flush(ws); err != nil {
		return err
	}
	if notify != nil && !ch.Silent {
		notify(id)
	}
	return nil
}

// PowerOffBehindKova shuts instance id down as a guest that powers itself off would.
func (s *Simulated) PowerOffBehindKova(ctx context.Context, id string) error {
	return s.ChangeBehindKova(ctx, id, OutOfBand{Power: lifecycle.PowerShutdown})
}

// VanishBehindKova removes instance id from its host as an operator on the hypervisor
// would.
func (s *Simulated) VanishBehindKova(ctx context.Context, id string) error {
	return s.ChangeBehindKova(ctx, id, OutOfBand{Vanish: true})
}

func validPower(p lifecycle.PowerState) bool {
	switch p {
	case lifecycle.PowerNoState, lifecycle.PowerRunning, lifecycle.PowerPaused, lifecycle.PowerShutdown, lifecycle.PowerCrashed, lifecycle.PowerSuspended:
		return true
	}
	return false
}
