package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is a long-running program (the manager) whose output is shown on
// the terminal, each line prefixed with its name.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and its output is flushed
	err  error         // Wait's result, valid once done is closed
}

// startChild starts path with args, sending its stdout and stderr, prefixed
// with "name | ", to stdout and stderr.
func startChild(name, path string, args []string, stdout, stderr io.Writer) (*child, error) {
	outW := newPrefixWriter(stdout, name+" | ")
	errW := newPrefixWriter(stderr, name+" | ")
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		outW.Flush()
		errW.Flush()
		close(c.done)
	}()
	return c, nil
}

// Done is closed when the child has exited.
func (c *child) Done() <-chan struct{} { return c.done }

// ExitReason describes how the child ended, e.g. "exit status 2" or
// "signal: killed". Only valid once Done is closed.
func (c *child) ExitReason() string {
	if c.err != nil {
		return c.err.Error()
	}
	return "exit status 0"
}

// Stop sends SIGTERM, so that the child can shut down cleanly, and kills it
// if it has not exited within timeout. Stopping an exited child does nothing.
func (c *child) Stop(timeout time.Duration) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		<-c.done // it exited meanwhile: that is the only way Signal fails here
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %s and was killed", c.name, timeout)
	}
}

// prefixWriter writes each complete line it receives to w, prefixed.
type prefixWriter struct {
	w      io.Writer
	prefix []byte
	buf    []byte // an incomplete last line
}

// outputMu serializes the lines of all prefixWriters, so that lines from a
// child's stdout and stderr never interleave mid-line when both go to the
// same place.
var outputMu sync.Mutex

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: []byte(prefix)}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		if err := p.writeLine(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes an incomplete last line, if any, with a newline added.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		_ = p.writeLine(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) writeLine(line []byte) error {
	outputMu.Lock()
	defer outputMu.Unlock()
	_, err := p.w.Write(append(append([]byte{}, p.prefix...), line...))
	return err
}
