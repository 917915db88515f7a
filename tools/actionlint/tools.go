//go:build tools

// Package tools pins actionlint, whose main package the tests build to lint the workflow files
// in .github/workflows:
//
//	CGO_ENABLED=0 go build -o actionlint github.com/rhysd/actionlint/cmd/actionlint
//
// It lives in a module of its own so its dependency versions never mix with the other tools'.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
