// Command failover-snmp serves failoverd's state to SNMP managers through
// net-snmp's snmpd: snmpd starts it (pass_persist in snmpd.conf, see
// examples/snmpd.conf) and sends it get/getnext requests for the hardware
// status table of CISCO-FIREWALL-MIB on stdin; it answers from the
// daemon's status on the control socket.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"failover/engine/api"
	"failover/engine/snmp"
	"failover/engine/version"
)

func main() {
	sock := flag.String("socket", api.DefaultSocket, "failoverd's control socket")
	maxAge := flag.Duration("max-age", time.Second, "how long one status answers requests (a walk reads one status)")
	timeout := flag.Duration("timeout", 2*time.Second, "how long to wait for the daemon (snmpd waits for the answer)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String("failover-snmp"))
		return
	}
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: failover-snmp [--socket PATH] [--max-age D] [--timeout D]")
		os.Exit(2)
	}
	// stdout is snmpd's: logs go to stderr, which snmpd passes on to its own.
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("prog", "failover-snmp")
	api.HelloTimeout, api.ReplyTimeout = *timeout, *timeout
	src := &snmp.Source{
		Dial:   func() (snmp.StatusClient, error) { return api.Dial(*sock, false) },
		MaxAge: *maxAge,
		Log:    log,
	}
	defer src.Close()
	if err := snmp.Serve(os.Stdin, os.Stdout, src.Vars, log); err != nil {
		log.Error("stopped", "err", err)
		src.Close()
		os.Exit(1)
	}
}
