package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The engine asks the host, on every preview and update, what the virtualenv holds: About
// once, GetRequiredPackages once per pass (twice per `up`). Each answer costs a Python start,
// 0.1 to 0.2 s, for an answer that changes only when the environment does. A memo keeps the
// last answer per virtualenv, with what it was read from: the interpreter, every site-packages
// directory (installing, upgrading or removing a distribution adds or removes entries there, and
// so changes the directory's time), pyvenv.cfg, PYTHONPATH, and each file or directory the
// answer looked in (the plugin files, and the package directories of editable installs, which
// live outside site-packages). Any of them changed, and the answer is read again.

// memo is one virtualenv's file of answers, under the user's cache directory.
type memo struct {
	path  string
	venv  string
	state map[string]memoEntry
}

type memoEntry struct {
	Key     string          `json:"key"`
	Watched []string        `json:"watched"`
	Value   json.RawMessage `json:"value"`
}

// openMemo is the memo of `venv` (an absolute path), or nil when answers cannot be kept: no
// cache directory, or a virtualenv that also reads the system's site-packages.
func openMemo(venv string) *memo {
	if venv == "" || !filepath.IsAbs(venv) {
		return nil
	}
	cfg, err := os.ReadFile(filepath.Join(venv, "pyvenv.cfg"))
	if err != nil || strings.Contains(strings.ReplaceAll(string(cfg), " ", ""), "include-system-site-packages=true") {
		return nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte(venv))
	m := &memo{
		path:  filepath.Join(cache, "pulumi-language-python", hex.EncodeToString(sum[:8])+".json"),
		venv:  venv,
		state: map[string]memoEntry{},
	}
	if data, err := os.ReadFile(m.path); err == nil {
		_ = json.Unmarshal(data, &m.state) // unreadable: every answer is read again
	}
	return m
}

// answer is the memo's answer to `question` when its environment has not changed since, else
// it asks `read`, which also names what else its answer depends on, and keeps what it says.
func (m *memo) answer(question string, into any, read func() (any, []string, error)) error {
	if m != nil {
		entry, ok := m.state[question]
		if ok && entry.Key == m.key(entry.Watched) && json.Unmarshal(entry.Value, into) == nil {
			return nil
		}
	}
	answer, watched, err := read()
	if err != nil {
		return err
	}
	value, err := json.Marshal(answer)
	if err != nil {
		return err
	}
	if m != nil {
		m.state[question] = memoEntry{Key: m.key(watched), Watched: watched, Value: value}
		m.save()
	}
	return json.Unmarshal(value, into)
}

// key is what an answer was read from: the times and sizes of the virtualenv's interpreter,
// pyvenv.cfg and site-packages directories, PYTHONPATH, and of each path in `watched`.
func (m *memo) key(watched []string) string {
	paths := []string{filepath.Join(m.venv, "pyvenv.cfg"), filepath.Join(m.venv, "bin", "python")}
	sites, _ := filepath.Glob(filepath.Join(m.venv, "lib*", "python*", "site-packages"))
	paths = append(paths, sites...)
	paths = append(paths, watched...)
	h := sha256.New()
	fmt.Fprintf(h, "PYTHONPATH=%s\n", os.Getenv("PYTHONPATH"))
	for _, path := range paths {
		if info, err := os.Stat(path); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", path, info.ModTime().UnixNano(), info.Size())
		} else {
			fmt.Fprintf(h, "%s missing\n", path)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// save writes the memo whole, through a temporary file, so that a host that reads it meanwhile
// sees the old one or the new one; a failure only means the next host reads again.
func (m *memo) save() {
	data, err := json.Marshal(m.state)
	if err != nil || os.MkdirAll(filepath.Dir(m.path), 0o755) != nil {
		return
	}
	temp, err := os.CreateTemp(filepath.Dir(m.path), ".memo-*")
	if err != nil {
		return
	}
	_, writeErr := temp.Write(data)
	closeErr := temp.Close()
	if writeErr != nil || closeErr != nil || os.Rename(temp.Name(), m.path) != nil {
		_ = os.Remove(temp.Name())
	}
}
