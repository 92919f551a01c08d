package spare

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeVenv makes a virtualenv whose python plays a spare: it answers with `script` (sh), run with
// the spare's arguments. It returns the launch that selects it.
func fakeVenv(t *testing.T, script string, withPackage bool) Launch {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir()) // Root() lives there
	// The fakes that wait for an engine's address, as a spare never taken does, end with the test.
	t.Cleanup(func() {
		entries, _ := os.ReadDir(Root())
		for _, entry := range entries {
			if pid, err := readPid(filepath.Join(Root(), entry.Name())); err == nil {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})
	project := t.TempDir()
	venv := filepath.Join(project, "venv")
	site := filepath.Join(venv, "lib", "python3.11", "site-packages")
	if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if withPackage {
		if err := os.MkdirAll(filepath.Join(site, Distribution+"-0.2.0.dist-info"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(venv, "bin", "python"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "PULUMI_RUNTIME_VIRTUALENV=venv", "PYTHONHOME=/elsewhere", "KEEP=1"}
	return Launch{CLI: os.Getpid(), Env: env, Dir: project}
}

// The spare's part: the engine's address on stdin, then the port on stdout, then what it serves.
const serving = `read engine
echo "from the spare" >&2
echo 4242
echo "serving $engine as $*"
`

func TestInterpreterIsTheSDKLaunchersChoice(t *testing.T) {
	l := fakeVenv(t, serving, true)
	python, env, ok := interpreter(l)
	if !ok || python != filepath.Join(l.Dir, "venv", "bin", "python") {
		t.Fatalf("interpreter = %q, %v", python, ok)
	}
	joined := strings.Join(env, "\n")
	if !strings.Contains(joined, "PATH="+filepath.Join(l.Dir, "venv", "bin")+":/usr/bin:/bin") ||
		!strings.Contains(joined, "PULUMI_RUNTIME_VIRTUALENV="+filepath.Join(l.Dir, "venv")+"\n") ||
		strings.Contains(joined, "PYTHONHOME") || !strings.Contains(joined, "KEEP=1") {
		t.Fatalf("environment: %v", env)
	}
}

func TestNoSpareWithoutThePackageOrAVirtualenv(t *testing.T) {
	l := fakeVenv(t, serving, false)
	if _, _, ok := interpreter(l); ok {
		t.Fatal("a virtualenv without pulumi_webhooks got a spare")
	}
	l.Env = []string{"PATH=/usr/bin:/bin"}
	if _, _, ok := interpreter(l); ok {
		t.Fatal("a launch without PULUMI_RUNTIME_VIRTUALENV got a spare")
	}
	if err := Ensure(l); err != nil || Take(l) != nil {
		t.Fatalf("Ensure = %v, and a spare was taken", err)
	}
}

func TestALaunchTakesTheSpareStartedForItOnce(t *testing.T) {
	l := fakeVenv(t, serving, true)
	if err := Ensure(l); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(l); err != nil { // one is waiting: no second
		t.Fatal(err)
	}
	if dirs := startedFor(l); len(dirs) != 1 {
		t.Fatalf("%d spares started, want 1", len(dirs))
	}
	other := l
	other.Env = append([]string{"ANOTHER=1"}, l.Env...)
	if Take(other) != nil {
		t.Fatal("a launch with another environment took the spare")
	}
	reordered := l
	reordered.Env = append(l.Env[1:len(l.Env):len(l.Env)], l.Env[0])
	taken := Take(reordered)
	if taken == nil {
		t.Fatal("the launch the spare was started for did not take it")
	}
	if Take(l) != nil || waiting(l) {
		t.Fatal("a spare was taken twice")
	}
	var out, errs bytes.Buffer
	if !taken.Serve("127.0.0.1:9999", &out, &errs) {
		t.Fatal("the spare did not serve")
	}
	if want := "4242\nserving 127.0.0.1:9999 as -u -m " + Module + " --cli "; !strings.HasPrefix(out.String(), want) {
		t.Fatalf("stdout %q, want it to start with %q", out.String(), want)
	}
	if errs.String() != "from the spare\n" {
		t.Fatalf("stderr %q", errs.String())
	}
}

func TestNoSpareInADirectoryOthersCanUse(t *testing.T) {
	l := fakeVenv(t, serving, true)
	if err := os.MkdirAll(Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(l); err == nil || Take(l) != nil {
		t.Fatalf("Ensure = %v in a directory others can read", err)
	}
}

func TestASpareRecordsNoSecretOfItsEnvironment(t *testing.T) {
	l := fakeVenv(t, serving, true)
	l.Env = append(l.Env, "PULUMI_CONFIG_PASSPHRASE=not-on-disk")
	if err := Start(l); err != nil {
		t.Fatal(err)
	}
	for _, dir := range startedFor(l) {
		text, err := os.ReadFile(filepath.Join(dir, "launch.json"))
		if err != nil || strings.Contains(string(text), "not-on-disk") {
			t.Fatalf("launch.json %q, %v", text, err)
		}
	}
	if len(startedFor(l)) != 1 {
		t.Fatal("the spare was not found by its launch")
	}
}

func TestASpareThatEndsWithoutAPortIsNotUsed(t *testing.T) {
	l := fakeVenv(t, "echo 'No module named pulumi_webhooks' >&2; exit 1\n", true)
	if err := Start(l); err != nil {
		t.Fatal(err)
	}
	taken := Take(l)
	if taken == nil {
		// It may have ended before the take: its pipes then have no other end.
		return
	}
	var out, errs bytes.Buffer
	if taken.Serve("127.0.0.1:9999", &out, &errs) || out.Len() != 0 || errs.Len() != 0 {
		t.Fatalf("served %q / %q", out.String(), errs.String())
	}
}

func TestDescriptionsOfEndedSparesAreRemoved(t *testing.T) {
	l := fakeVenv(t, "exit 0\n", true)
	if err := Start(l); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for waiting(l) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	removeEnded(Root())
	if dirs := startedFor(l); len(dirs) != 0 {
		t.Fatalf("left: %v", dirs)
	}
}
