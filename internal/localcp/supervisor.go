package localcp

import (
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/util/flowcontrol"
)

// The restart back-off of a supervised program, as the kubelet's for a crashing container:
// the first restart waits restartBackoffInitial, each further one twice as long up to
// restartBackoffMax, and the wait starts over once the program has run for twice the
// maximum without exiting.
const (
	restartBackoffInitial = time.Second
	restartBackoffMax     = 30 * time.Second
)

func newRestartBackoff() *flowcontrol.Backoff {
	return flowcontrol.NewBackOffWithJitter(restartBackoffInitial, restartBackoffMax, 0.1)
}

// Supervisor keeps a program running: when its process exits without being asked to, it
// is started again, with the same arguments, after the restart back-off. Stop stops it
// for good.
type Supervisor struct {
	spec    processSpec
	log     logr.Logger
	backoff *flowcontrol.Backoff

	mu       sync.Mutex
	current  *Process
	restarts int

	stopOnce sync.Once
	stopping chan struct{}
	loopDone chan struct{}
}

// Supervise keeps p's program running from now on.
func Supervise(p *Process, log logr.Logger) *Supervisor {
	s := &Supervisor{
		spec:     p.spec,
		log:      log.WithValues("process", p.spec.name),
		backoff:  newRestartBackoff(),
		current:  p,
		stopping: make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	go s.run()
	return s
}

// Current is the process running now (or the last one, while a restart waits).
func (s *Supervisor) Current() *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Restarts is how many times the program was started again.
func (s *Supervisor) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

func (s *Supervisor) run() {
	defer close(s.loopDone)
	p := s.Current()
	for {
		select {
		case <-s.stopping:
			return
		case <-p.Done():
		}
		s.log.Error(nil, "Process exited unexpectedly; restarting it", "pid", p.Pid(), "reason", p.ExitReason())
		next := s.restart()
		if next == nil {
			return
		}
		p = next
	}
}

// restart starts the program again after the back-off, and again after a longer one if it
// cannot be started. It returns nil if the supervisor is stopped meanwhile.
func (s *Supervisor) restart() *Process {
	for {
		s.backoff.Next(s.spec.name, s.backoff.Clock.Now())
		delay := s.backoff.Get(s.spec.name)
		timer := time.NewTimer(delay)
		select {
		case <-s.stopping:
			timer.Stop()
			return nil
		case <-timer.C:
		}
		p, err := s.spec.start()
		if err != nil {
			s.log.Error(err, "Could not restart the process; trying again", "after", delay)
			continue
		}
		s.mu.Lock()
		s.current = p
		s.restarts++
		restarts := s.restarts
		s.mu.Unlock()
		s.log.Info("Restarted the process", "pid", p.Pid(), "restarts", restarts, "after", delay)
		return p
	}
}

// Stop stops supervising and then the process (see Process.Stop). It is safe to call more
// than once.
func (s *Supervisor) Stop(timeout time.Duration) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	<-s.loopDone
	return s.Current().Stop(timeout)
}
