//go:build tools

// Package tools pins the control-plane binaries that the local control plane and the
// envtest suites run. They cannot be downloaded here, so they are built from their Go
// modules into bin/ once (see the Makefile's control-plane target).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
