package spare

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Program is the kind of a program's spare: Python with the SDK and this package's program
// modules loaded, waiting for the runner's command line.
const Program = "program"

// ProgramModule is a program spare's Python entry point.
const ProgramModule = "pulumi_webhooks.program_spare"

// EnsureProgram starts a program's spare for `l` (Kind Program: its Env is the program's
// environment without the stack's config, its Dir the program's working directory), run by
// `python` of a virtualenv that has this package, unless one is waiting for it already.
func EnsureProgram(l Launch, python string) error {
	l.Kind = Program
	if !installed(filepath.Dir(filepath.Dir(python))) || waiting(l) {
		return nil
	}
	// -P: this package and the SDK are loaded ahead from the virtualenv alone, not from the
	// working directory, as the runner (a script elsewhere) would find them.
	return start(l, python, l.Env, "-P", "-m", ProgramModule)
}

// outputDelay is how long a program's output is still copied once it has ended.
const outputDelay = 5 * time.Second

// Ran is how a program run in a spare ended.
type Ran struct {
	Served bool // false: the spare ended before it was given the program, which did not run
	Code   int  // its exit code; -1 when it ended without one (killed)
}

// Run gives a program's spare the runner's command line and the environment it adds (the
// stack's config), copies its output to `stdout` and `stderr` until it ends, and returns its
// exit code. Once `stop` is closed the spare is interrupted, and killed if it lingers past
// `grace`.
func (t *Taken) Run(argv []string, env map[string]string, stdout, stderr io.Writer,
	stop <-chan struct{}, grace time.Duration,
) Ran {
	request, err := json.Marshal(struct {
		Argv []string          `json:"argv"`
		Env  map[string]string `json:"env"`
	}{argv, env})
	if err == nil {
		_, err = t.in.Write(append(request, '\n'))
	}
	_ = t.in.Close()
	if err != nil {
		t.close()
		return Ran{}
	}
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		select {
		case <-stop:
			t.Signal(syscall.SIGINT)
			select {
			case <-time.After(grace):
				t.Signal(syscall.SIGKILL)
			case <-ended:
			}
		case <-ended:
		}
	}()
	var copies sync.WaitGroup
	for _, stream := range []struct {
		to   io.Writer
		from *os.File
	}{{stdout, t.out}, {stderr, t.err}} {
		copies.Add(1)
		go func() {
			defer copies.Done()
			_, _ = io.Copy(stream.to, stream.from)
		}()
	}
	status, _ := io.ReadAll(t.status) // until it ends: only it holds that pipe
	// A process the program left running may hold its output open: as exec.Cmd's WaitDelay,
	// stop copying a moment after the program ended.
	copied := make(chan struct{})
	go func() {
		copies.Wait()
		close(copied)
	}()
	select {
	case <-copied:
	case <-time.After(outputDelay):
		_ = t.out.SetReadDeadline(time.Now())
		_ = t.err.SetReadDeadline(time.Now())
		<-copied
	}
	t.close()
	code, err := strconv.Atoi(strings.TrimSpace(string(status)))
	if err != nil {
		code = -1
	}
	return Ran{Served: true, Code: code}
}

func (t *Taken) close() {
	for _, file := range []*os.File{t.out, t.err, t.status} {
		if file != nil {
			_ = file.Close()
		}
	}
}
