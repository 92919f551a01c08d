// Package spare starts Python dynamic providers before the engine asks for them, for the engine's
// launcher to take over.
//
// The engine starts a dynamic provider only once the program has registered a resource (or, in
// a refresh or destroy, at once), and then waits a third of a second for Python, the SDK and
// this package to load: in each pass, and `up`, `refresh` and `destroy` make two. So a provider
// is kept ready, a "spare": the language host starts one at its first request (while the CLI
// derives the stack's secrets key, or while the program starts), and each launch of the
// provider, `pulumi-resource-pulumi-python`, takes the waiting spare over and starts the next
// one, for the engine's next pass if the command makes one (passes.go).
//
// A spare is this package's provider server (`python -m pulumi_webhooks.spare`): its
// modules loaded, it waits for the engine's address on its stdin, then serves. It is taken only
// by a launch of the same `pulumi` process with the same environment and working directory as
// the one it was started for, which is how the engine would have started it; otherwise the
// launcher starts a provider the SDK's way. A spare never taken ends when its `pulumi` does.
//
// The program is started anew in each pass too, and loads Python, the SDK and this package
// before it registers anything: the language host keeps a program's Python ready the same way
// (kind Program, `python -m pulumi_webhooks.program_spare`, see program.go).
package spare

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Module is the spare's Python entry point: the SDK's dynamic-provider server, this package's
// provider modules loaded first.
const Module = "pulumi_webhooks.spare"

// Distribution is the Python distribution that holds Module: no spare without it.
const Distribution = "pulumi_webhooks"

// Launch is a provider launch as the engine makes it: the `pulumi` process that makes it (the
// parent of its plugins), the environment and the working directory. Kind is "" for a provider,
// Program for a program. Pass is which of its command's passes it is for, from 1 (0: not known);
// a spare started for one pass is taken by the next launch all the same.
type Launch struct {
	CLI  int
	Env  []string
	Dir  string
	Kind string
	Pass int
}

// Here is a launch by this process's parent, with this process's environment and directory.
func Here() (Launch, error) {
	dir, err := os.Getwd()
	return Launch{CLI: os.Getppid(), Env: os.Environ(), Dir: dir}, err
}

// described is what a spare's directory records of its launch: the environment as a digest only,
// since it holds secrets (the passphrase, cloud credentials).
type described struct {
	CLI  int    `json:"cli"`
	Dir  string `json:"dir"`
	Env  string `json:"envSha256"`
	Kind string `json:"kind,omitempty"`
}

func (l Launch) described() described {
	env := slices.Clone(l.Env)
	slices.Sort(env)
	digest := sha256.Sum256([]byte(strings.Join(env, "\x00")))
	return described{CLI: l.CLI, Dir: l.Dir, Env: hex.EncodeToString(digest[:]), Kind: l.Kind}
}

// Root is where spares are described: one directory each, for this user only.
func Root() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("pulumi-webhooks-spares-%d", os.Getuid()))
}

// ownRoot makes Root, or checks the one there: a directory of this user's that only it can use.
func ownRoot() (string, error) {
	root := Root()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", err
	}
	info, err := os.Lstat(root)
	if err != nil {
		return "", err
	}
	owner, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok || int(owner.Uid) != os.Getuid() || info.Mode().Perm() != 0o700 {
		return "", fmt.Errorf("%s is not a directory of this user's alone", root)
	}
	return root, nil
}

// interpreter is the Python the SDK's launcher would run for `l`, and its environment: the
// virtualenv that PULUMI_RUNTIME_VIRTUALENV names, relative to the directory, made absolute and
// first on PATH, and PYTHONHOME unset. ok is false when the launcher would choose otherwise (no virtualenv, or one
// that another toolchain finds), or when the virtualenv lacks this package.
func interpreter(l Launch) (python string, env []string, ok bool) {
	var venv string
	for _, kv := range l.Env {
		if value, found := strings.CutPrefix(kv, "PULUMI_RUNTIME_VIRTUALENV="); found {
			venv = strings.TrimSuffix(value, "/")
		}
	}
	if venv == "" {
		return "", nil, false
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(l.Dir, venv)
	}
	python = filepath.Join(venv, "bin", "python")
	if !installed(venv) {
		return "", nil, false
	}
	for _, kv := range l.Env {
		key, value, _ := strings.Cut(kv, "=")
		switch key {
		case "PYTHONHOME":
		case "PULUMI_RUNTIME_VIRTUALENV": // the launcher makes it absolute
			env = append(env, key+"="+venv)
		case "PATH":
			env = append(env, "PATH="+filepath.Join(venv, "bin")+":"+value)
		default:
			env = append(env, kv)
		}
	}
	return python, env, true
}

// installed tells whether the virtualenv `venv` has a python and this package.
func installed(venv string) bool {
	found, _ := filepath.Glob(filepath.Join(venv, "lib*", "python*", "site-packages", Distribution+"-*.dist-info"))
	_, err := os.Stat(filepath.Join(venv, "bin", "python"))
	return err == nil && len(found) > 0
}

// Ensure starts a spare for `l` unless one is waiting for it already.
func Ensure(l Launch) error {
	if waiting(l) {
		return nil
	}
	return Start(l)
}

// Start starts a spare for `l`: none when the SDK's launcher would not start this package's
// Python. It runs in a session of its own, so that the engine's signals to the process that
// started it do not reach it.
func Start(l Launch) error {
	python, env, ok := interpreter(l)
	if !ok {
		return nil
	}
	return start(l, python, env, "-u", "-m", Module)
}

// start runs `python ARGS --cli PID --spare-dir DIR` as the spare of `l`, with the environment `env`.
func start(l Launch, python string, env []string, args ...string) error {
	root, err := ownRoot()
	if err != nil {
		return err
	}
	removeEnded(root)
	dir, err := os.MkdirTemp(root, strconv.Itoa(l.CLI)+"-")
	if err != nil {
		return err
	}
	failed := func(err error) error {
		_ = os.RemoveAll(dir)
		return err
	}
	// Its stdin, stdout and stderr are named pipes, for the launcher that takes it. Opened
	// read-write here so that no open waits for the other end; the spare keeps them.
	streams := []string{"in", "out", "err"}
	if l.Kind == Program {
		streams = append(streams, "status") // its exit code, for the host that runs it
	}
	var ends []*os.File
	for _, stream := range streams {
		path := filepath.Join(dir, stream)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			return failed(err)
		}
		end, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return failed(err)
		}
		defer end.Close()
		ends = append(ends, end)
	}
	cmd := exec.Command(python, append(args, "--cli", strconv.Itoa(l.CLI), "--spare-dir", dir)...)
	cmd.Dir, cmd.Env = l.Dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = ends[0], ends[1], ends[2], ends[3:]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return failed(err)
	}
	go func() { _ = cmd.Wait() }()
	record, err := json.Marshal(l.described())
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "launch.json"), record, 0o600)
	}
	if err == nil && l.Pass > 0 {
		err = os.WriteFile(filepath.Join(dir, "pass"), []byte(strconv.Itoa(l.Pass)), 0o600)
	}
	if err == nil {
		// Last: a launcher takes the spare by renaming this file, so it must find the rest there.
		err = os.WriteFile(filepath.Join(dir, "ready"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		return failed(err)
	}
	return nil
}

// waiting tells whether a spare started for `l` is running and not taken yet.
func waiting(l Launch) bool {
	for _, dir := range startedFor(l) {
		if text, err := os.ReadFile(filepath.Join(dir, "ready")); err == nil {
			if pid, err := strconv.Atoi(string(text)); err == nil && syscall.Kill(pid, 0) == nil {
				return true
			}
		}
	}
	return false
}

// startedFor lists the directories of the spares started for `l`.
func startedFor(l Launch) []string {
	root, err := ownRoot()
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(root)
	want := l.described()
	var found []string
	for _, entry := range entries {
		if !strings.HasPrefix(entry.Name(), strconv.Itoa(l.CLI)+"-") {
			continue
		}
		dir := filepath.Join(root, entry.Name())
		var record described
		text, err := os.ReadFile(filepath.Join(dir, "launch.json"))
		if err == nil && json.Unmarshal(text, &record) == nil && record == want {
			found = append(found, dir)
		}
	}
	return found
}

// removeEnded removes the descriptions of spares that have ended (a spare never taken removes its
// own). One without a pid yet is being written, unless it is old.
func removeEnded(root string) {
	entries, _ := os.ReadDir(root)
	for _, entry := range entries {
		dir := filepath.Join(root, entry.Name())
		pid, err := readPid(dir)
		ended := err == nil && syscall.Kill(pid, 0) != nil
		info, statErr := os.Stat(dir)
		if ended || (err != nil && statErr == nil && time.Since(info.ModTime()) > time.Minute) {
			_ = os.RemoveAll(dir)
		}
	}
}

func readPid(dir string) (int, error) {
	for _, file := range []string{"ready", "taken"} {
		if text, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
			return strconv.Atoi(string(text))
		}
	}
	return 0, os.ErrNotExist
}
