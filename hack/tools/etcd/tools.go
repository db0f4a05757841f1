//go:build tools

// Package tools pins etcd, which the local control plane runs. It lives in a module of its
// own because kube-apiserver's module requires a newer etcd server library than the etcd
// release we run.
package tools

import _ "go.etcd.io/etcd/server/v3/etcdmain"
