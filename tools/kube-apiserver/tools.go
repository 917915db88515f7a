//go:build tools

// Package tools pins kube-apiserver, whose main package the tests build:
//
//	CGO_ENABLED=0 go build -o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
//
// k8s.io/kubernetes requires its staging modules at v0.0.0, which no proxy serves; go.mod
// replaces each with the release's matching v0.N.P (regenerate with ./update.sh VERSION).
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
