package localcp

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Process is a child process that localcp supervises: kube-controller-manager here
// (envtest runs etcd and kube-apiserver), and the manager and nova-api for cmd/localcp.
// It runs in its own process group, so a Ctrl+C on the terminal reaches only its parent,
// which stops the children in order.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited (and afterExit has run)
	err  error         // Wait's result, valid once done is closed
}

// StartProcess starts path with args, its output going to stdout and stderr. afterExit,
// if set, runs once the process has exited and before Done is closed (to flush output).
func StartProcess(name, path string, args []string, stdout, stderr io.Writer, afterExit func()) (*Process, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if afterExit != nil {
			afterExit()
		}
		close(p.done)
	}()
	return p, nil
}

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

// Stop sends SIGTERM, so that the process can shut down cleanly, and kills it if it has
// not exited within timeout. Stopping an exited process does nothing.
func (p *Process) Stop(timeout time.Duration) error {
	if done, _ := p.exited(); done {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-p.done // it exited meanwhile: that is the only way Signal fails here
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, timeout)
	}
}
