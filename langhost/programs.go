package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"

	"pulumi-webhooks/langhost/spare"
)

// programLaunch is how Run starts the program's Python: the toolchain's interpreter with its
// environment, from this host's directory, for this host's `pulumi`. ok is false where the
// program's Python is not kept ready: a toolchain command other than `python` (`poetry run`), or
// a program directory whose own `pulumi` or `pulumi_webhooks` would come before the installed ones.
func programLaunch(ctx context.Context, tc toolchain.Toolchain, info *pulumirpc.ProgramInfo) (spare.Launch, string, bool) {
	for _, name := range []string{"pulumi", "pulumi_webhooks"} {
		if _, err := os.Stat(filepath.Join(info.GetProgramDirectory(), name)); err == nil {
			return spare.Launch{}, "", false
		}
	}
	cmd, err := tc.Command(ctx)
	if err != nil || filepath.Base(cmd.Path) != "python" {
		return spare.Launch{}, "", false
	}
	launch, err := spare.Here()
	if err != nil {
		return spare.Launch{}, "", false
	}
	launch.Kind = spare.Program
	if cmd.Env != nil {
		launch.Env = cmd.Env
	}
	return launch, cmd.Path, true
}

// startProgramSpare starts the Python of the program's next run ahead (spare.EnsureProgram):
// at About, for an update's first pass, and while a preview runs, for the update's.
func startProgramSpare(ctx context.Context, tc toolchain.Toolchain, info *pulumirpc.ProgramInfo) {
	if launch, python, ok := programLaunch(ctx, tc, info); ok {
		_ = spare.EnsureProgram(launch, python)
	}
}

// runInSpare runs the program in the Python kept ready for it, if there is one: `argv` is the
// runner's command line, `config` the environment Run adds. ok is false when the program did
// not run there, and Run then starts it itself.
func (h *host) runInSpare(runCtx context.Context, tc toolchain.Toolchain, req *pulumirpc.RunRequest,
	argv []string, config map[string]string,
) (*pulumirpc.RunResponse, bool) {
	launch, python, ok := programLaunch(runCtx, tc, req.GetInfo())
	if !ok {
		return nil, false
	}
	taken := spare.Take(launch)
	if req.GetDryRun() && spare.Comes(launch, 1) { // an update's preview: its update pass comes next
		_ = spare.EnsureProgram(launch, python)
	}
	if taken == nil {
		return nil, false
	}
	ran := taken.Run(argv, config, os.Stdout, os.Stderr, runCtx.Done(), 5*time.Second)
	if !ran.Served {
		return nil, false
	}
	return runResponse(ran.Code), true
}
