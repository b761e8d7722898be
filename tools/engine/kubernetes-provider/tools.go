//go:build tools

// The upstream command this module builds (see build.json); importing it keeps its module in
// go.mod under `go mod tidy`.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
)
