package spare

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// portWait bounds how long a launcher waits for a spare's port before starting a provider itself.
const portWait = 30 * time.Second

// Taken is a spare a launcher took over. Pass is the pass it was started for (0: not known).
type Taken struct {
	Pass         int
	pid          int
	in, out, err *os.File
	status       *os.File // a program's: its exit code
}

// Take takes over the spare started for `l`, if there is one that no other launcher took.
func Take(l Launch) *Taken {
	for _, dir := range startedFor(l) {
		if os.Rename(filepath.Join(dir, "ready"), filepath.Join(dir, "taken")) != nil {
			continue // another launcher's
		}
		pid, err := readPid(dir)
		if err != nil {
			continue
		}
		// Non-blocking opens: the pipes of a spare that is gone have no other end.
		type stream struct {
			name string
			flag int
		}
		streams := []stream{{"in", os.O_WRONLY}, {"out", os.O_RDONLY}, {"err", os.O_RDONLY}}
		if l.Kind == Program {
			streams = append(streams, stream{"status", os.O_RDONLY})
		}
		var files []*os.File
		for _, stream := range streams {
			file, err := os.OpenFile(filepath.Join(dir, stream.name), stream.flag|syscall.O_NONBLOCK, 0)
			if err != nil {
				break
			}
			files = append(files, file)
		}
		if len(files) == len(streams) {
			taken := &Taken{pid: pid, in: files[0], out: files[1], err: files[2]}
			if text, err := os.ReadFile(filepath.Join(dir, "pass")); err == nil {
				taken.Pass, _ = strconv.Atoi(string(text))
			}
			if l.Kind == Program {
				taken.status = files[3]
			}
			return taken
		}
		for _, file := range files {
			_ = file.Close()
		}
	}
	return nil
}

// Signal passes a signal the engine sent the launcher on to the spare, as it would reach a
// provider the launcher had started itself.
func (t *Taken) Signal(sig syscall.Signal) {
	_ = syscall.Kill(-t.pid, sig)
}

// Serve gives the spare the engine's address, then copies its output to `stdout` and `stderr`
// until it ends: first the line with the port the engine reads, then the rest. False, with
// nothing written, when the spare ended or gave no port in time: the caller then starts a
// provider itself.
func (t *Taken) Serve(engine string, stdout, stderr io.Writer) bool {
	_, err := io.WriteString(t.in, engine+"\n")
	_ = t.in.Close()
	if err != nil {
		return false
	}
	var early bytes.Buffer // stderr before the port: shown only if the spare serves
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(&early, t.err)
		close(copied)
	}()
	_ = t.out.SetReadDeadline(time.Now().Add(portWait))
	lines := bufio.NewReader(t.out)
	port, err := lines.ReadString('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Signal(syscall.SIGKILL) // alive (it holds the pipe) but stuck
	}
	if err != nil {
		return false
	}
	_ = t.out.SetReadDeadline(time.Time{})
	if _, err := io.WriteString(stdout, port); err != nil {
		return false
	}
	// What stderr said so far, then the rest as it comes.
	_ = t.err.SetReadDeadline(time.Now())
	<-copied
	_ = t.err.SetReadDeadline(time.Time{})
	_, _ = stderr.Write(early.Bytes())
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(stderr, t.err)
		close(done)
	}()
	_, _ = io.Copy(stdout, lines)
	<-done
	return true
}
