package main

import (
	"bytes"
	"io"
	"sync"

	"github.com/kova-dev/kova/internal/localcp"
)

// startChild starts a long-running program (the manager, nova-api) whose output is shown
// on the terminal: its stdout and stderr go, each line prefixed with "name | ", to stdout
// and stderr, and the process's Done is closed once that output is flushed. env is added to
// the environment it inherits.
func startChild(name, path string, args, env []string, stdout, stderr io.Writer) (*localcp.Process, error) {
	outW := newPrefixWriter(stdout, name+" | ")
	errW := newPrefixWriter(stderr, name+" | ")
	return localcp.StartProcessWithEnv(name, path, args, env, outW, errW, func() {
		outW.Flush()
		errW.Flush()
	})
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
