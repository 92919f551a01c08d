package spare

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Passes is how many passes the command of the `pulumi` process `cli` makes, each launching the
// provider once and running the program at most once: 1 for `preview` and for a command that skips
// its preview, 2 for `up`, `refresh` and `destroy`; 0 where its command line does not say
// (another command, `up --refresh`, a command line that cannot be read). The spare for a pass
// that never comes is a Python loading on the CPU the passes that run need.
func Passes(cli int) int {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cli))
	if err != nil {
		return 0
	}
	return passes(strings.Split(strings.TrimSuffix(string(text), "\x00"), "\x00"))
}

// passes is Passes of the command line `args`, its program first.
func passes(args []string) int {
	if len(args) < 2 {
		return 0
	}
	var count int
	switch args[1] {
	case "preview":
		count = 1
	case "up", "update", "refresh", "destroy":
		count = 2
	default:
		return 0
	}
	for _, arg := range args[2:] {
		if arg == "--" {
			break
		}
		name, value, valued := strings.Cut(arg, "=")
		on, err := strconv.ParseBool(value) // as the CLI reads `--flag=VALUE`
		on = !valued || (err == nil && on)
		letters, short := strings.CutPrefix(name, "-")
		short = short && !strings.HasPrefix(letters, "-") && letters != "" && strings.Trim(letters, "yfr") == ""
		switch {
		case name == "--refresh" && on, short && on && strings.Contains(letters, "r"):
			return 0 // a refresh first: how it launches the provider is the engine's to say
		case (name == "--skip-preview" || name == "--preview-only") && on, short && on && strings.Contains(letters, "f"):
			count = 1
		}
	}
	return count
}

// Comes tells whether the command of `l` makes a pass after its pass `pass` (1 for its first,
// 0 when not known): where either is not known, one may.
func Comes(l Launch, pass int) bool {
	total := Passes(l.CLI)
	return pass == 0 || total == 0 || pass < total
}
