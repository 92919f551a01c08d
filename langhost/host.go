package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The runner exits with this code after it has shown the user an actionable message:
// the engine then reports the failure without adding an error of its own.
const exitAfterUserMessage = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	runner        string
	engineAddress string
	cancelled     context.Context // done once the engine sends Cancel
	cancel        context.CancelFunc

	spareOnce sync.Once // a provider started ahead of the engine's request (package spare)
}

// programGrace is how long a running program may take to end by itself once the engine cancels
// it or stops this host, before it is interrupted.
const programGrace = 2 * time.Second

func newHost(runner, engineAddress string) *host {
	cancelled, cancel := context.WithCancel(context.Background())
	return &host{runner: runner, engineAddress: engineAddress, cancelled: cancelled, cancel: cancel}
}

// pythonOptions reads Pulumi.yaml's runtime options exactly as the official host does:
// `virtualenv` is relative to the project root (the directory of Pulumi.yaml).
func pythonOptions(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	raw := info.GetOptions().AsMap()
	text := func(key string) (string, error) {
		value, ok := raw[key]
		if !ok {
			return "", nil
		}
		s, ok := value.(string)
		if !ok {
			return "", fmt.Errorf("the %s option in Pulumi.yaml must be a string", key)
		}
		return s, nil
	}

	var err error
	if opts.Virtualenv, err = text("virtualenv"); err != nil {
		return opts, err
	}
	name, err := text("toolchain")
	if err != nil {
		return opts, err
	}
	// Unset is Auto (uv.lock or poetry.lock decides, else pip); "auto" itself is not accepted, as upstream.
	opts.Toolchain, err = choose("toolchain", name, []string{"pip", "poetry", "uv"},
		toolchain.Pip, toolchain.Poetry, toolchain.Uv)
	if err != nil {
		return opts, err
	}
	if name, err = text("typechecker"); err != nil {
		return opts, err
	}
	opts.Typechecker, err = choose("typechecker", name, []string{"mypy", "pyright"},
		toolchain.TypeCheckerMypy, toolchain.TypeCheckerPyright)
	if err != nil {
		return opts, err
	}
	// A plugin never runs in the ambient Python: it gets a virtual environment of its own.
	if isPlugin && opts.Virtualenv == "" && (opts.Toolchain == toolchain.Auto || opts.Toolchain == toolchain.Pip) {
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

// choose is the value that `name` stands for, names[i] standing for values[i]; "" is the zero value.
func choose[T any](option, name string, names []string, values ...T) (T, error) {
	var zero T
	if name == "" {
		return zero, nil
	}
	for i, known := range names {
		if known == name {
			return values[i], nil
		}
	}
	return zero, fmt.Errorf("unsupported %s option %q in Pulumi.yaml: use %s", option, name, strings.Join(names, ", "))
}

// memoOf is the memo of the project's virtualenv, for the pip toolchain only (poetry and uv
// keep theirs where their lock files say), or nil.
func memoOf(opts toolchain.PythonOptions) *memo {
	if opts.Toolchain != toolchain.Pip || opts.Virtualenv == "" {
		return nil
	}
	venv := opts.Virtualenv
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(opts.Root, venv)
	}
	return openMemo(filepath.Clean(venv))
}

func resolveToolchain(info *pulumirpc.ProgramInfo, isPlugin bool) (toolchain.Toolchain, toolchain.PythonOptions, error) {
	opts, err := pythonOptions(info, isPlugin)
	if err != nil {
		return nil, opts, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return tc, opts, err
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins is superseded by GetRequiredPackages; the CLI falls back to it only on Unimplemented.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "GetRequiredPlugins is superseded by GetRequiredPackages")
}

// GetRequiredPackages creates the virtual environment when it is missing (installing the
// project's dependencies into it, as the official host does on a first preview), then
// lists the resource plugins that the installed Pulumi packages need.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	h.startSpare(req.GetInfo(), "")
	tc, opts, err := resolveToolchain(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	stdout, stderr, closeLog, err := h.engineLog(ctx)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	if err := tc.EnsureVenv(ctx, req.GetInfo().GetProgramDirectory(), false, true, stdout, stderr); err != nil {
		return nil, err
	}
	packages, err := requiredPackages(ctx, tc, memoOf(opts))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// Run runs the program: `python pulumi-language-python-exec --monitor ... PROGRAM ARGS...`
// in the project's toolchain, with the stack config in the environment.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by this language host"}, nil
	}
	tc, opts, err := resolveToolchain(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	if err := typecheck(ctx, tc, opts); err != nil {
		return nil, err
	}
	h.startSpare(req.GetInfo(), req.GetProject())

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("could not serialize the stack config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("could not serialize the secret config keys: %w", err)
	}

	// The program stops when the engine cancels (Cancel waits programGrace), or programGrace
	// after this request ends: the engine ends it as soon as a step fails.
	runCtx, stop := context.WithCancel(h.cancelled)
	defer stop()
	context.AfterFunc(ctx, func() { time.AfterFunc(programGrace, stop) })
	argv := append([]string{h.runner}, h.runnerArgs(req)...)
	configEnv := map[string]string{"PULUMI_CONFIG": string(config), "PULUMI_CONFIG_SECRET_KEYS": string(secretKeysJSON)}
	if response, ok := h.runInSpare(runCtx, tc, req, argv, configEnv); ok {
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		return response, nil
	}
	cmd, err := tc.Command(runCtx, argv...)
	if err != nil {
		return nil, err
	}
	// Interrupt first, so the program can finish what it is sending; kill only if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	// In a process group of its own: the engine stops this host by interrupting the host's group,
	// and the program is then given a moment to end by itself (programGrace) rather than
	// interrupted in the middle of reporting why the update failed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	for key, value := range configEnv {
		cmd.Env = append(cmd.Env, key+"="+value)
	}

	err = cmd.Run()
	// Python may die without flushing: make sure whatever it wrote reaches the engine.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return runResponse(0), nil
	case errors.As(err, &exit):
		return runResponse(exit.ExitCode()), nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python program: %v", err)}, nil
	}
}

// runResponse is what the engine is told of a program that exited with `code` (-1: killed).
func runResponse(code int) *pulumirpc.RunResponse {
	switch code {
	case 0:
		return &pulumirpc.RunResponse{}
	case exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}
	}
}

// RunPlugin runs a plugin written in Python, as the engine asks when a plugin's directory holds a
// PulumiPlugin.yaml with runtime python and no executable: `python DIR ARGS...` (DIR's
// __main__.py) in the plugin's own virtualenv, its output streamed back for the engine to read the
// port from.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetAttachDebugger() {
		return status.Error(codes.Unimplemented, "attaching a debugger is not supported by this language host")
	}
	ctx := server.Context()
	tc, _, err := resolveToolchain(req.GetInfo(), true)
	if err != nil {
		return err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return err
	}
	program := req.GetInfo().GetProgramDirectory()
	if entry := req.GetInfo().GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(program, entry)
	}
	cmd, err := tc.Command(ctx, append([]string{program}, req.GetArgs()...)...)
	if err != nil {
		return err
	}
	cmd.Dir = req.GetPwd()
	// The engine's environment for the plugin, with the plugin's virtualenv first on PATH (and no
	// PYTHONHOME), as the toolchain activates it.
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	cmd.Env = env
	if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
		cmd.Env = toolchain.ActivateVirtualEnv(env, venv)
	}
	cmd.WaitDelay = 5 * time.Second // the engine closes the plugin by ending the stream: its context
	var sending sync.Mutex          // one stream, written from stdout's and stderr's copiers
	send := func(wrap func([]byte) *pulumirpc.RunPluginResponse) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			sending.Lock()
			defer sending.Unlock()
			if err := server.Send(wrap(bytes.Clone(p))); err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	cmd.Stdout = send(func(p []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: p}}
	})
	cmd.Stderr = send(func(p []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: p}}
	})
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: 0}})
	case errors.As(err, &exit):
		code := int32(exit.ExitCode()) //nolint:gosec // an exit status fits
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
	default:
		return fmt.Errorf("could not run the Python plugin %s: %w", program, err)
	}
}

// runnerArgs are the command-line arguments of pulumi-language-python-exec.
func (h *host) runnerArgs(req *pulumirpc.RunRequest) []string {
	var args []string
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("project", req.GetProject())
	flag("root_directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("dry_run", strconv.FormatBool(req.GetDryRun()))
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// typecheck runs the typechecker that Pulumi.yaml names, if any, before the program.
func typecheck(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions) error {
	var name string
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		name = "mypy"
	case toolchain.TypeCheckerPyright:
		name = "pyright"
	default:
		return nil
	}
	args := []string{}
	if name == "mypy" {
		if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
			if rel, err := filepath.Rel(opts.ProgramDir, venv); err == nil {
				args = append(args, "--exclude", rel)
			}
		}
	}
	cmd, err := tc.ModuleCommand(ctx, name, append(args, opts.ProgramDir)...)
	if err != nil {
		return err
	}
	cmd.Dir = opts.ProgramDir
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(os.Stdout, &output), io.MultiWriter(os.Stderr, &output)
	if err := cmd.Run(); err != nil {
		if strings.Contains(output.String(), "No module named "+name) {
			return fmt.Errorf("the typechecker option is %s, but %s is not installed: add it to the project's dependencies",
				name, name)
		}
		return fmt.Errorf("%s failed: %w\n%s", name, err, output.String())
	}
	return nil
}

// InstallDependencies is `pulumi install`: the virtual environment and the project's
// dependencies (requirements.txt, pyproject.toml, poetry or uv).
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, _, err := resolveToolchain(req.GetInfo(), req.GetIsPlugin())
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if err := tc.InstallDependencies(server.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	h.startSpare(req.GetInfo(), "")
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if req.GetInfo() != nil {
		var err error
		if opts, err = pythonOptions(req.GetInfo(), false); err != nil {
			return nil, err
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if req.GetInfo() != nil { // the CLI asks before an update or preview: its first pass's program
		startProgramSpare(ctx, tc, req.GetInfo())
	}
	info, err := about(ctx, tc, opts.Toolchain == toolchain.Pip, memoOf(opts))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchain":        toolchain.Name(opts.Toolchain),
			"toolchainVersion": info.ToolchainVersion.String(),
			"typechecker":      toolchain.TypeCheckerName(opts.Typechecker),
		},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, _, err := resolveToolchain(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	installed, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("could not list the Python packages: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, len(installed))
	for i, dep := range installed {
		deps[i] = &pulumirpc.DependencyInfo{Name: dep.Name, Version: dep.Version}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// RuntimeOptionsPrompts is what `pulumi new` asks: the toolchain, and for pip the virtualenv.
func (h *host) RuntimeOptionsPrompts(
	ctx context.Context, req *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	raw := req.GetInfo().GetOptions().AsMap()
	choice := func(value string) *pulumirpc.RuntimeOptionPrompt_RuntimeOptionValue {
		return &pulumirpc.RuntimeOptionPrompt_RuntimeOptionValue{
			PromptType: pulumirpc.RuntimeOptionPrompt_STRING, StringValue: value, DisplayName: value,
		}
	}
	var prompts []*pulumirpc.RuntimeOptionPrompt
	tc, hasToolchain := raw["toolchain"]
	if !hasToolchain {
		choices := []*pulumirpc.RuntimeOptionPrompt_RuntimeOptionValue{choice("pip")}
		for _, tool := range []string{"poetry", "uv"} {
			if _, err := exec.LookPath(tool); err == nil {
				choices = append(choices, choice(tool))
			}
		}
		prompts = append(prompts, &pulumirpc.RuntimeOptionPrompt{
			Key:         "toolchain",
			Description: "The toolchain to use for installing dependencies and running the program",
			PromptType:  pulumirpc.RuntimeOptionPrompt_STRING,
			Choices:     choices,
			Default:     choice("pip"),
		})
	}
	if _, hasVenv := raw["virtualenv"]; tc == "pip" && !hasVenv {
		prompts = append(prompts, &pulumirpc.RuntimeOptionPrompt{
			Key:         "virtualenv",
			Description: "The virtualenv to use",
			PromptType:  pulumirpc.RuntimeOptionPrompt_STRING,
			Choices:     []*pulumirpc.RuntimeOptionPrompt_RuntimeOptionValue{choice("venv")},
			Default:     choice("venv"),
		})
	}
	return &pulumirpc.RuntimeOptionsResponse{Prompts: prompts}, nil
}

// Template prepares a project made by `pulumi new` for its toolchain.
func (h *host) Template(ctx context.Context, req *pulumirpc.TemplateRequest) (*pulumirpc.TemplateResponse, error) {
	tc, _, err := resolveToolchain(req.GetInfo(), false)
	if err != nil {
		return nil, err
	}
	if err := tc.PrepareProject(ctx, req.GetProjectName(), req.GetInfo().GetProgramDirectory(), false, nil, nil); err != nil {
		return nil, err
	}
	return &pulumirpc.TemplateResponse{}, nil
}

// Cancel stops a running program, after a moment in which it may end by itself: the engine
// cancels as soon as a step fails, often while the program is still reporting the failure.
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	time.AfterFunc(programGrace, h.cancel)
	return &emptypb.Empty{}, nil
}

// engineLog returns writers that show output in the CLI as ephemeral info and error messages.
func (h *host) engineLog(ctx context.Context) (io.Writer, io.Writer, func(), error) {
	conn, err := grpc.NewClient(h.engineAddress,
		grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("could not connect to the engine: %w", err)
	}
	engine := pulumirpc.NewEngineClient(conn)
	stream := rand.Int31() //nolint:gosec // a stream id, not a secret
	writer := func(severity pulumirpc.LogSeverity) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			_, err := engine.Log(ctx, &pulumirpc.LogRequest{
				Message: strings.ToValidUTF8(string(p), "\uFFFD"), Ephemeral: true, StreamId: stream, Severity: severity,
			})
			if err != nil {
				return 0, err
			}
			return len(p), nil
		})
	}
	return writer(pulumirpc.LogSeverity_INFO), writer(pulumirpc.LogSeverity_ERROR), func() { _ = conn.Close() }, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// pipAbout prints, as JSON, what About reports of a pip environment: the interpreter, its version,
// and pip's version, read from pip's metadata rather than by starting pip (a third of a second,
// paid by every `pulumi preview` and `up`, which ask for it).
const pipAbout = `import importlib.metadata, json, platform, sys
try:
    pip = importlib.metadata.version("pip")
except importlib.metadata.PackageNotFoundError:
    pip = ""
print(json.dumps({"executable": sys.executable, "python": platform.python_version(), "pip": pip}))`

// about is the toolchain's About: for pip in one interpreter, for poetry and uv as the SDK asks them.
// The answer is the memo's (memo.go) while the environment is unchanged.
func about(ctx context.Context, tc toolchain.Toolchain, pip bool, memo *memo) (toolchain.Info, error) {
	if !pip {
		return tc.About(ctx)
	}
	var raw struct{ Executable, Python, Pip string }
	err := memo.answer("about", &raw, func() (any, []string, error) {
		cmd, err := tc.Command(ctx, "-c", pipAbout)
		if err != nil {
			return nil, nil, err
		}
		out, err := cmd.Output()
		if err != nil {
			return nil, nil, fmt.Errorf("could not ask Python about itself: %w", err)
		}
		var said struct{ Executable, Python, Pip string }
		if err := json.Unmarshal(out, &said); err != nil {
			return nil, nil, fmt.Errorf("could not read what Python said of itself: %w", err)
		}
		return said, nil, nil
	})
	if err != nil {
		return toolchain.Info{}, err
	}
	info := toolchain.Info{PythonExecutable: raw.Executable}
	// Unparsable versions stay zero, as the SDK's toolchain leaves them.
	if version, err := semver.ParseTolerant(raw.Python); err == nil {
		info.PythonVersion = version
	}
	if version, err := semver.ParseTolerant(raw.Pip); err == nil {
		info.ToolchainVersion = version
	}
	return info, nil
}
