package spare

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// programSpare starts a fake program spare for a launch like `l`, playing `script` (sh): the
// request arrives on stdin, the exit code goes on descriptor 3.
func programSpare(t *testing.T, script string) Launch {
	t.Helper()
	l := fakeVenv(t, script, true)
	l.Kind = Program
	if err := EnsureProgram(l, filepath.Join(l.Dir, "venv", "bin", "python")); err != nil {
		t.Fatal(err)
	}
	return l
}

func run(t *testing.T, l Launch, stop <-chan struct{}) (Ran, string, string) {
	t.Helper()
	taken := Take(l)
	if taken == nil {
		t.Fatal("the program spare was not taken")
	}
	var out, errs bytes.Buffer
	ran := taken.Run([]string{"/bin/runner", "--stack", "dev"}, map[string]string{"PULUMI_CONFIG": "{}"}, &out, &errs, stop, time.Second)
	return ran, out.String(), errs.String()
}

func TestAProgramSpareRunsWhatItIsGivenAndReportsItsExitCode(t *testing.T) {
	l := programSpare(t, `read request
echo "ran $request as $*"
echo "from the program" >&2
echo 32 >&3
exit 32
`)
	provider := l
	provider.Kind = ""
	if Take(provider) != nil {
		t.Fatal("a provider's launch took a program's spare")
	}
	if err := EnsureProgram(l, filepath.Join(l.Dir, "venv", "bin", "python")); err != nil || len(startedFor(l)) != 1 {
		t.Fatalf("EnsureProgram = %v: a second spare while one waits", err)
	}
	ran, out, errs := run(t, l, nil)
	if !ran.Served || ran.Code != 32 {
		t.Fatalf("ran = %+v", ran)
	}
	want := `ran {"argv":["/bin/runner","--stack","dev"],"env":{"PULUMI_CONFIG":"{}"}} as -P -m ` + ProgramModule + " --cli "
	if !strings.HasPrefix(out, want) || errs != "from the program\n" {
		t.Fatalf("stdout %q, want it to start with %q; stderr %q", out, want, errs)
	}
}

func TestAProgramSpareThatDiesReportsNoExitCode(t *testing.T) {
	l := programSpare(t, "read request\necho started\nkill -9 $$\n")
	ran, out, _ := run(t, l, nil)
	if !ran.Served || ran.Code != -1 || out != "started\n" {
		t.Fatalf("ran = %+v, stdout %q", ran, out)
	}
}

func TestAStoppedProgramIsInterruptedThenKilled(t *testing.T) {
	l := programSpare(t, `trap 'echo interrupted; echo 130 >&3; exit 130' INT
read request
echo waiting
while :; do sleep 0.05; done
`)
	stop := make(chan struct{})
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })
	ran, out, _ := run(t, l, stop)
	if ran.Code != 130 || !strings.HasSuffix(out, "interrupted\n") {
		t.Fatalf("ran = %+v, stdout %q", ran, out)
	}

	l = programSpare(t, "trap '' INT\nread request\nwhile :; do sleep 0.05; done\n")
	stop = make(chan struct{})
	close(stop)
	started := time.Now()
	if ran, _, _ := run(t, l, stop); ran.Code != -1 || time.Since(started) > 10*time.Second {
		t.Fatalf("ran = %+v after %v", ran, time.Since(started))
	}
}

func TestNoProgramSpareWithoutThePackage(t *testing.T) {
	l := fakeVenv(t, "read request\n", false)
	l.Kind = Program
	if err := EnsureProgram(l, filepath.Join(l.Dir, "venv", "bin", "python")); err != nil || Take(l) != nil {
		t.Fatalf("EnsureProgram = %v, and a spare was taken", err)
	}
}

func TestAProcessLeftRunningDoesNotHoldTheRunPastItsEnd(t *testing.T) {
	// The background sleep keeps stdout open, as a daemon the program started would.
	l := programSpare(t, "read request\nsleep 60 3>&- &\necho 0 >&3\n")
	started := time.Now()
	ran, _, _ := run(t, l, nil)
	if !ran.Served || ran.Code != 0 || time.Since(started) > outputDelay+5*time.Second {
		t.Fatalf("ran = %+v after %v", ran, time.Since(started))
	}
}
