// pulumi-resource-pulumi-python: the launcher the engine runs for Python dynamic providers.
//
// It takes over the provider started ahead for this launch (package spare), giving it the
// engine's address, relaying its output and passing the engine's signals on to it, and starts
// the spare of the engine's next launch. Without a spare it runs the SDK's own launcher,
// installed beside it as pulumi-resource-pulumi-python.sdk, which starts `python -m
// pulumi.dynamic` in the project's virtualenv.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"pulumi-webhooks/langhost/spare"
)

// sdkLauncher is the SDK's launcher script, beside this binary.
const sdkLauncher = "pulumi-resource-pulumi-python.sdk"

func main() {
	if launch, err := spare.Here(); err == nil && len(os.Args) > 1 {
		taken := spare.Take(launch)
		// The engine launches the provider anew in each pass: the next one's, if one comes.
		pass := 0
		if taken != nil {
			pass = taken.Pass
		}
		if spare.Comes(launch, pass) {
			next := launch
			if pass > 0 {
				next.Pass = pass + 1
			}
			_ = spare.Ensure(next)
		}
		if taken != nil {
			signals := make(chan os.Signal, 1)
			signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
			go func() {
				for sig := range signals {
					taken.Signal(sig.(syscall.Signal))
				}
			}()
			// The engine passes its address last, after any logging flags.
			if taken.Serve(os.Args[len(os.Args)-1], os.Stdout, os.Stderr) {
				return
			}
			signal.Reset()
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not find this executable: %v\n", err)
		os.Exit(1)
	}
	launcher := filepath.Join(filepath.Dir(self), sdkLauncher)
	err = syscall.Exec(launcher, append([]string{launcher}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "could not run %s: %v\n", launcher, err)
	os.Exit(1)
}
