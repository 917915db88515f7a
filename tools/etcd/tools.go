//go:build tools

// Package tools pins etcd's server, whose main package the tests build:
//
//	CGO_ENABLED=0 go build -o etcd go.etcd.io/etcd/server/v3
//
// It lives in a module of its own so its dependency versions never mix with kube-apiserver's.
package tools

import _ "go.etcd.io/etcd/server/v3"
