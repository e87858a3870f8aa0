package main

import (
	"encoding/json"
	"fmt"
	"io"

	"failover/engine/api"
)

// machineOutput serves the two outputs meant for programs rather than
// operators: "fosh --json status" (the daemon's status as one JSON
// document) and "fosh --events" (the ordered event stream, one JSON
// object per line, until the daemon or the reader ends it).
func machineOutput(sock string, jsonStatus, events bool, args []string, stdout, stderr io.Writer) int {
	if jsonStatus && (len(args) != 1 || args[0] != "status") {
		fmt.Fprintln(stderr, "fosh: usage: fosh --json status")
		return 2
	}
	c, err := api.Dial(sock, false)
	if err != nil {
		fmt.Fprintf(stderr, "fosh: %v\n", err)
		return 2
	}
	defer c.Close()
	if events {
		err = c.Subscribe(func(line []byte) error {
			_, err := fmt.Fprintf(stdout, "%s\n", line)
			return err
		})
	} else {
		var st *api.Status
		if st, err = c.Status(); err == nil {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(st)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "fosh: %v\n", err)
		return 1
	}
	return 0
}
