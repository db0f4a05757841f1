//go:build !linux

package localcp

import (
	"os"
	"syscall"
)

// sysProcAttr: see platform_linux.go. Elsewhere the defaults are kept.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup: see platform_linux.go. Elsewhere only the process itself is signalled.
func signalGroup(p *os.Process, sig syscall.Signal) error { return p.Signal(sig) }

// lockDataDir: see platform_linux.go. Elsewhere the data dir is not locked.
func lockDataDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
}
