//go:build tools

// The upstream commands this module builds (see build.json); importing them keeps their
// modules in go.mod under `go mod tidy`.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
