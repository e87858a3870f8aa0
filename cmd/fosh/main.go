// Command fosh is the operator shell: interactive with line editing on a
// terminal, a script reader otherwise, and usable as an SSH login shell.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"failover/engine/api"
	"failover/engine/version"
	"failover/shell"
)

type lines []string

func (l *lines) String() string     { return strings.Join(*l, "; ") }
func (l *lines) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	var cmds lines
	sock := flag.String("socket", envOr("FOSH_SOCKET", api.DefaultSocket), "failoverd control socket")
	flag.Var(&cmds, "c", "run this line and exit (repeatable)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	jsonStatus := flag.Bool("json", false, "with the argument status: print the daemon's status as JSON")
	events := flag.Bool("events", false, "print the daemon's events as JSON lines until interrupted")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String("fosh"))
		return 0
	}
	if *jsonStatus || *events {
		return machineOutput(*sock, *jsonStatus, *events, flag.Args(), os.Stdout, os.Stderr)
	}
	// Under sshd's ForceCommand the command the user asked for ("ssh box
	// 'show failover'") arrives here rather than as -c.
	if oc := os.Getenv("SSH_ORIGINAL_COMMAND"); len(cmds) == 0 && oc != "" {
		cmds = append(cmds, oc)
	}
	interactive := len(cmds) == 0 && term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
	c, err := api.Dial(*sock, interactive)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fosh: %v\n", err)
		return 2
	}
	defer c.Close()
	if interactive {
		t, err := shell.NewTerminal(c, os.Stdin, os.Stdout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "fosh: %v\n", err)
			return 2
		}
		// When the daemon restarts, the operator gets a new session on
		// the same terminal.
		t.Redial = func() (shell.Backend, error) { return api.Dial(*sock, true) }
		if err := t.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "fosh: %v\n", err)
			return 1
		}
		return 0
	}
	in := os.Stdin
	var failed int
	if len(cmds) > 0 {
		failed, err = shell.RunScript(c, strings.NewReader(strings.Join(cmds, "\n")+"\n"), os.Stdout, os.Stderr)
	} else {
		failed, err = shell.RunScript(c, in, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fosh: %v\n", err)
		return 2
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
