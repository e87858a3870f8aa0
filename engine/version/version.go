// Package version says which build of failoverd and fosh is running: the
// product version and what the Go toolchain recorded of the source.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Number is the product version (show version, --version, the metrics'
// build info). A package build may set it with -ldflags -X.
var Number = "0.1.0"

// Info is what a binary knows of its own build.
type Info struct {
	Version   string
	Revision  string // VCS commit, "" when built outside a checkout
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string
}

// Get reads the build information the Go toolchain embedded.
func Get() Info {
	i := Info{Version: Number, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	return i
}

// String is the --version line of program, e.g.
// "failoverd 0.1.0 (commit 3ef0265c1d2e, go1.26.0 linux/amd64)".
func String(program string) string {
	i := Get()
	rev := "unknown commit"
	if i.Revision != "" {
		rev = "commit " + short(i.Revision)
		if i.Modified {
			rev += "+modified"
		}
	}
	return fmt.Sprintf("%s %s (%s, %s %s/%s)", program, i.Version, rev, i.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
