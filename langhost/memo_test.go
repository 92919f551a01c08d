package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A virtualenv's skeleton: what the memo looks at.
func fakeVenv(t *testing.T) (venv, site string) {
	t.Helper()
	venv = t.TempDir()
	site = filepath.Join(venv, "lib", "python3.11", "site-packages")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(venv, "pyvenv.cfg"), []byte("include-system-site-packages = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return venv, site
}

// touch makes a path's time later than any the memo has seen, as an install does.
func touch(t *testing.T, path string) {
	t.Helper()
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func TestMemoAnswersAgainOnlyWhenTheEnvironmentChanges(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PYTHONPATH", "")
	venv, site := fakeVenv(t)
	editable := t.TempDir() // an editable install's package, outside site-packages
	reads := 0
	ask := func() string {
		t.Helper()
		var got string
		err := openMemo(venv).answer("question", &got, func() (any, []string, error) {
			reads++
			return "answer", []string{editable}, nil
		})
		if err != nil || got != "answer" {
			t.Fatalf("got %q, %v", got, err)
		}
		return got
	}
	ask()
	ask()
	if reads != 1 {
		t.Fatalf("an unchanged environment was read %d times, want 1", reads)
	}
	touch(t, site) // a distribution installed, upgraded or removed
	ask()
	touch(t, editable) // a file added to an editable package
	ask()
	t.Setenv("PYTHONPATH", "/somewhere/else")
	ask()
	if reads != 4 {
		t.Fatalf("read %d times, want 4: once, then after each change", reads)
	}
}

func TestNoMemoWhereTheSystemsPackagesCount(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	venv, _ := fakeVenv(t)
	if err := os.WriteFile(filepath.Join(venv, "pyvenv.cfg"), []byte("include-system-site-packages = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if openMemo(venv) != nil {
		t.Fatal("a virtualenv that reads the system's site-packages must be asked every time")
	}
	if openMemo("relative/venv") != nil || openMemo("") != nil {
		t.Fatal("only an absolute virtualenv path has a memo")
	}
}
