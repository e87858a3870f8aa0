// Command failover-snmp is a net-snmp pass_persist program: snmpd runs it
// for the CISCO-UNIFIED-FIREWALL-MIB subtree and it answers
// cfwHardwareStatusTable from failoverd's JSON status. In snmpd.conf:
//
//	pass_persist .1.3.6.1.4.1.9.9.147 /usr/bin/failover-snmp
//
// snmpd's user needs access to the control socket (group fosh).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"failover/engine/api"
	"failover/engine/snmp"
	"failover/engine/version"
)

func main() {
	sock := flag.String("socket", api.DefaultSocket, "failoverd control socket")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String("failover-snmp"))
		return
	}
	src := func() (*api.Status, error) {
		c, err := api.Dial(*sock, false)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.Status()
	}
	if err := snmp.Serve(os.Stdin, os.Stdout, src, time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "failover-snmp: %v\n", err)
		os.Exit(1)
	}
}
