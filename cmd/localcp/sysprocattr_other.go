//go:build !linux

package main

import "syscall"

// sysProcAttr: see sysprocattr_linux.go. Elsewhere the defaults are kept.
func sysProcAttr() *syscall.SysProcAttr { return nil }
