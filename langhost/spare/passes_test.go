package spare

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary play a `pulumi` process: with PLAY_PULUMI set it only waits, its
// command line being the one it was started with.
func TestMain(m *testing.M) {
	if os.Getenv("PLAY_PULUMI") != "" {
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// playPulumi starts a process whose command line is `pulumi ARGS`, ended with the test.
func playPulumi(t *testing.T, args ...string) int {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: self, Args: append([]string{"pulumi"}, args...), Env: append(os.Environ(), "PLAY_PULUMI=1")}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestPassesAreReadFromTheCommandLine(t *testing.T) {
	for line, want := range map[string]int{
		"pulumi preview --stack dev":                           1,
		"pulumi preview --expect-no-changes":                   1,
		"pulumi up --yes --stack dev":                          2,
		"pulumi update -y":                                     2,
		"pulumi refresh --yes":                                 2,
		"pulumi destroy --yes --stack prod":                    2,
		"pulumi up --yes --skip-preview":                       1,
		"pulumi up --skip-preview=true":                        1,
		"pulumi up --skip-preview=false":                       2,
		"pulumi destroy -yf":                                   1,
		"pulumi destroy -f --stack dev":                        1,
		"pulumi refresh --preview-only":                        1,
		"pulumi up --refresh --yes":                            0,
		"pulumi up -yr":                                        0,
		"pulumi up --refresh=false --yes":                      2,
		"pulumi up --refresh=1 --yes":                          0,
		"pulumi up --skip-preview=1":                           1,
		"pulumi up --skip-preview=True":                        1,
		"pulumi destroy -f=false":                              2,
		"pulumi up --stack f":                                  2, // a value, not a flag
		"pulumi up --stack dev -- --skip-preview":              2,
		"pulumi watch":                                         0,
		"pulumi --cwd project up --yes":                        0, // a flag first: not read
		"pulumi":                                               0,
		"pulumi import aws:s3/bucket:Bucket b name --yes -f":   0,
		"pulumi destroy --yes --stack dev --exclude-protected": 2,
	} {
		if got := passes(strings.Fields(line)); got != want {
			t.Errorf("passes(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestPassesOfAProcessAreItsCommandLines(t *testing.T) {
	if got := Passes(os.Getpid()); got != 0 { // `go test`'s binary: no pulumi command
		t.Fatalf("Passes(this test) = %d", got)
	}
	if got := Passes(1 << 30); got != 0 {
		t.Fatalf("Passes(no such process) = %d", got)
	}
}

func TestANextPassComesUnlessTheCommandLineSaysItDoesNot(t *testing.T) {
	l := Launch{CLI: 1 << 30} // no such process: its passes are not known
	if !Comes(l, 1) || !Comes(l, 2) || !Comes(l, 0) {
		t.Fatal("a pass not known to be the last is taken for one that is not")
	}
	destroy := Launch{CLI: playPulumi(t, "destroy", "--yes", "--stack", "dev")}
	if !Comes(destroy, 1) || Comes(destroy, 2) || !Comes(destroy, 0) {
		t.Fatalf("destroy: after its preview %v, after its destroy %v, after a pass not known %v",
			Comes(destroy, 1), Comes(destroy, 2), Comes(destroy, 0))
	}
	preview := Launch{CLI: playPulumi(t, "preview")}
	if Comes(preview, 1) || !Comes(preview, 0) {
		t.Fatal("preview: a second pass")
	}
}

func TestASpareIsTakenWithThePassItWasStartedFor(t *testing.T) {
	l := fakeVenv(t, serving, true)
	l.Pass = 2
	if err := Ensure(l); err != nil {
		t.Fatal(err)
	}
	l.Pass = 0 // any launch of the same `pulumi`, environment and directory takes it
	taken := Take(l)
	if taken == nil || taken.Pass != 2 {
		t.Fatalf("taken %+v", taken)
	}
	taken.Signal(9)
	if err := Start(l); err != nil {
		t.Fatal(err)
	}
	if taken := Take(l); taken == nil || taken.Pass != 0 {
		t.Fatalf("a spare started for no known pass: taken %+v", taken)
	}
}
