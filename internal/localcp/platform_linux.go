package localcp

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// sysProcAttr puts a child in its own process group, as envtest does for etcd
// and kube-apiserver, so that a Ctrl+C on the terminal reaches only us and we
// stop the children in order. Pdeathsig is the safety net if we die without
// stopping them.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// signalGroup signals p's process group (see sysProcAttr), so that what the child started
// itself is stopped with it.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}

// lockDataDir takes an exclusive lock on path for as long as the returned
// file stays open, so that a second control plane on the same data dir fails
// at once instead of wiping the certificates of the running one. The kernel
// drops the lock if we die.
func lockDataDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("localcp: the data dir is in use by another control plane (lock %s)", path)
		}
		return nil, err
	}
	return f, nil
}
