// Command pulumi-language-python is the project's own Python language host for the Pulumi
// engine: the Go module proxy serves the pulumi CLI (pkg/v3) but not upstream's language
// host module, so this one is built beside it from the same pinned SDK.
//
// It does what `pulumi up` needs of a Python program: Run starts the SDK's own
// pulumi-language-python-exec shim (copied from the pinned sdk/v3 module next to this binary)
// with the project's virtualenv python, and GetRequiredPackages reports the providers the
// installed Pulumi SDK packages declare (their pulumi-plugin.json), so the engine checks that
// each is installed instead of discovering a missing one half-way through an update. Program
// generation, templates and dependency installation are not implemented: `make` installs the
// virtualenv.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// How often the host checks that the engine that started it is still there.
const healthInterval = 30 * time.Second

// Exit code of the exec shim after it has shown the user an actionable message itself.
const userActionableExit = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
	shim   string
}

func main() {
	flag.String("tracing", "", "accepted for compatibility; not used")
	flag.Parse()
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	h := &host{shim: filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")}
	// Stop with the engine, as upstream's host does: a `pulumi up` killed with SIGKILL leaves
	// its plugins behind, and this one then ends at its next health check.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	if flag.NArg() > 0 {
		h.engine = flag.Arg(0)
		if err := rpcutil.Healthcheck(ctx, h.engine, healthInterval, cancel); err != nil {
			fail(err)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads the port off our first line
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engine = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// python is the virtualenv's interpreter named by Pulumi.yaml's runtime options (relative to
// the project's root), or python3 from PATH when none is set.
func python(info *pulumirpc.ProgramInfo) (string, error) {
	venv := option(info.GetOptions(), "virtualenv")
	if venv == "" {
		return exec.LookPath("python3")
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(info.GetRootDirectory(), venv)
	}
	bin := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("the virtualenv %s named in Pulumi.yaml has no bin/python: run `make venv` first", venv)
	}
	return bin, nil
}

func option(options *structpb.Struct, key string) string {
	if options == nil {
		return ""
	}
	if v, ok := options.GetFields()[key]; ok {
		return v.GetStringValue()
	}
	return ""
}

// plugin is the pulumi-plugin.json a Pulumi package ships beside its Python code.
type plugin struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	bin, err := python(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").Output()
	if err != nil {
		return nil, fmt.Errorf("finding site-packages of %s: %w", bin, err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*", "pulumi-plugin.json"))
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, file := range files {
		var p plugin
		text, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(text, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if p.Resource && p.Name != "" {
			packages = append(packages, &pulumirpc.PackageDependency{
				Kind: "resource", Name: p.Name, Version: p.Version, Server: p.Server,
			})
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	bin, err := python(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = "."
	}
	args := []string{"-u", h.shim,
		"--monitor", req.GetMonitorAddress(), "--engine", h.engine,
		"--project", req.GetProject(), "--stack", req.GetStack(),
		"--pwd", req.GetInfo().GetProgramDirectory(), "--root_directory", req.GetInfo().GetRootDirectory(),
		"--dry_run", fmt.Sprint(req.GetDryRun()), "--parallel", fmt.Sprint(req.GetParallel())}
	if org := req.GetOrganization(); org != "" {
		args = append(args, "--organization", org)
	}
	args = append(append(args, program), req.GetArgs()...)
	// An empty stack config must still reach the SDK as an object and a list, never null.
	values, keys := req.GetConfig(), req.GetConfigSecretKeys()
	if values == nil {
		values = map[string]string{}
	}
	if keys == nil {
		keys = []string{}
	}
	config, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	secrets, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == userActionableExit:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", bin, err)}, nil
	}
}

func (h *host) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	bin, err := python(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: bin, Version: strings.TrimPrefix(strings.TrimSpace(string(out)), "Python ")}, nil
}
