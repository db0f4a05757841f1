package localcp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// outputWaitDelay bounds how long a process that has exited may keep its output pipes open
// through a child of its own: without it, Wait (and so Stop) would block for as long as
// that child lives.
const outputWaitDelay = 5 * time.Second

// Process is a child process that localcp runs: kube-controller-manager here (envtest runs
// etcd and kube-apiserver), and the manager and nova-api for cmd/localcp. It runs in its
// own process group, so a Ctrl+C on the terminal reaches only its parent, which stops the
// children in order, and a stop reaches whatever the child started itself.
type Process struct {
	spec processSpec
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited (and afterExit has run)
	err  error         // Wait's result, valid once done is closed
}

// processSpec is what starts a process, kept so that a Supervisor can start it again.
type processSpec struct {
	name, path     string
	args           []string
	env            []string // added to the environment the process inherits
	stdout, stderr io.Writer
	afterExit      func()
}

// StartProcess starts path with args, its output going to stdout and stderr. afterExit,
// if set, runs once the process has exited and before Done is closed (to flush output).
func StartProcess(name, path string, args []string, stdout, stderr io.Writer, afterExit func()) (*Process, error) {
	return StartProcessWithEnv(name, path, args, nil, stdout, stderr, afterExit)
}

// StartProcessWithEnv is StartProcess with env ("NAME=value") added to the environment the
// process inherits, a later entry winning.
func StartProcessWithEnv(name, path string, args, env []string, stdout, stderr io.Writer, afterExit func()) (*Process, error) {
	return processSpec{name: name, path: path, args: args, env: env, stdout: stdout, stderr: stderr, afterExit: afterExit}.start()
}

func (s processSpec) start() (*Process, error) {
	cmd := exec.Command(s.path, s.args...)
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = outputWaitDelay
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.name, err)
	}
	p := &Process{spec: s, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if s.afterExit != nil {
			s.afterExit()
		}
		close(p.done)
	}()
	return p, nil
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.spec.name }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitReason describes how the process ended, e.g. "exit status 2" or "signal: killed".
// Only valid once Done is closed.
func (p *Process) ExitReason() string {
	if p.err != nil {
		return p.err.Error()
	}
	return "exit status 0"
}

// exited reports whether the process has exited, and why.
func (p *Process) exited() (bool, error) {
	select {
	case <-p.done:
		if p.err == nil {
			return true, errors.New("exited with status 0")
		}
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, so that the process can shut down cleanly, and
// kills the group if the process has not exited within timeout. It returns within timeout
// plus outputWaitDelay whatever the process does. Stopping an exited process does nothing.
func (p *Process) Stop(timeout time.Duration) error {
	if done, _ := p.exited(); done {
		return nil
	}
	if err := signalGroup(p.cmd.Process, syscall.SIGTERM); err != nil {
		<-p.done // it exited meanwhile: that is the only way the signal fails here
		return nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
		_ = signalGroup(p.cmd.Process, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.spec.name, timeout)
	}
}
