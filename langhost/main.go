// pulumi-language-python: a Python language host for the Pulumi CLI.
//
// The CLI starts it with the engine's address as the last argument and reads
// the port it serves on from the first line of its stdout. It runs Python
// programs through the SDK's `pulumi-language-python-exec` script (installed
// beside this binary) and resolves Pulumi.yaml's runtime options (`virtualenv`,
// `toolchain`, `typechecker`) with the SDK's own python/toolchain package, so a
// project behaves here exactly as under the official host.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// The program runner script of the Python SDK, expected beside this binary.
const execScript = "pulumi-language-python-exec"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	executor := flag.String("use-executor", "", "the program runner to use instead of the one beside this binary")
	flag.String("tracing", "", "accepted for compatibility with the CLI; tracing is not supported")
	// The CLI passes a plugin's runtime options as flags too; every request carries them in its
	// ProgramInfo, which is what the host reads.
	for _, option := range []string{"root", "toolchain", "virtualenv", "typechecker"} {
		flag.String(option, "", "accepted for compatibility with the CLI; read from the request instead")
	}
	flag.Parse()

	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	logging.InitLogging(false, 0, false)

	runner := *executor
	if runner == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not find this executable: %w", err))
		}
		runner = filepath.Join(filepath.Dir(self), execScript)
		if _, err := os.Stat(runner); err != nil {
			cmdutil.Exit(fmt.Errorf("missing program runner %s: %w", runner, err))
		}
	}

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	host := newHost(runner, engineAddress)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel) // serves no new request; a program that runs is waited for
		time.AfterFunc(programGrace, host.cancel)
	}()
	if engineAddress != "" {
		// Exit when the engine goes away, rather than linger as an orphan.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the health check of the engine: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("the language host stopped serving: %w", err))
	}
}
