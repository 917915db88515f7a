//go:build tools

// Package tools pins kustomize, whose main package the deployment tests build to render k8s/
// exactly as `kubectl kustomize` (and `kubectl apply -k`) would:
//
//	CGO_ENABLED=0 go build -o kustomize sigs.k8s.io/kustomize/kustomize/v5
//
// It lives in a module of its own so its dependency versions never mix with the other tools'.
package tools

import _ "sigs.k8s.io/kustomize/kustomize/v5"
