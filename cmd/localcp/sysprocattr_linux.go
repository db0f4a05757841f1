package main

import "syscall"

// sysProcAttr puts the child in its own process group, so that Ctrl+C on the
// terminal reaches only localcp, which then stops the manager before the
// control plane. Pdeathsig is the safety net if localcp dies without
// stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
