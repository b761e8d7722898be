//go:build tools

// Package tools names the command build.json builds, so that `go mod tidy` keeps its
// requirements (and go.sum their hashes) in this module.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
