package engine

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"failover/engine/api"
)

// hardware describes the box for show version. It is read once when the
// engine starts (files, never on the event loop): the serial number and the
// memory size do not change while the daemon runs.
type hardware struct {
	serial string // stable per machine, derived from its machine id
	memMB  int64
}

func readHardware() hardware {
	hw := hardware{serial: boxSerial()}
	if m, ok := readMeminfo(); ok {
		hw.memMB = m["MemTotal"] / 1024
	}
	return hw
}

// boxSerial derives an ASA-shaped serial number (11 characters) from the
// machine id, so inventory tools see the same number across restarts and
// reinstalls of the daemon, and a different one on another box. The id
// itself is not shown: it is meant to stay private to the machine.
func boxSerial() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		b, err := os.ReadFile(p)
		if id := strings.TrimSpace(string(b)); err == nil && id != "" {
			sum := sha256.Sum256([]byte("failover serial " + id))
			return "FO" + strings.ToUpper(fmt.Sprintf("%x", sum[:5]))[:9]
		}
	}
	return "unknown"
}

// readMeminfo returns /proc/meminfo's figures in kB.
func readMeminfo() (map[string]int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err == nil {
			m[k] = n
		}
	}
	return m, sc.Err() == nil
}

func (hw hardware) String() string {
	s := fmt.Sprintf("Linux %s", runtime.GOARCH)
	if hw.memMB > 0 {
		s += fmt.Sprintf(", %d MB RAM", hw.memMB)
	}
	return s + fmt.Sprintf(", %d CPU", runtime.NumCPU())
}

// showMemory prints the machine's memory in ASA's layout (the whole box's,
// as on an appliance: free is what the kernel can hand out, MemAvailable).
// It reads /proc, so it runs off the event loop.
func showMemory() api.Reply {
	m, ok := readMeminfo()
	total, free := m["MemTotal"]*1024, m["MemAvailable"]*1024
	if !ok || total == 0 {
		return api.Reply{Err: "ERROR: memory statistics are not available"}
	}
	used := total - free
	var b strings.Builder
	fmt.Fprintf(&b, "Free memory:    %14d bytes (%2d%%)\n", free, free*100/total)
	fmt.Fprintf(&b, "Used memory:    %14d bytes (%2d%%)\n", used, used*100/total)
	b.WriteString("-------------     ----------------\n")
	fmt.Fprintf(&b, "Total memory:   %14d bytes (100%%)\n", total)
	return api.Reply{Output: b.String()}
}

// showDir lists the one file this product keeps, the startup-config, in
// ASA's "dir" layout, with the space of the file system holding it. It
// reads the file system, so it runs off the event loop.
func showDir(path string) api.Reply {
	if path == "" {
		return api.Reply{Err: "ERROR: no startup-config path (--config): no file system to list"}
	}
	dir := filepath.Dir(path)
	var b strings.Builder
	fmt.Fprintf(&b, "Directory of %s/\n\n", strings.TrimSuffix(dir, "/"))
	if fi, err := os.Stat(path); err == nil {
		ino := uint64(0)
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		fmt.Fprintf(&b, "%-6d -rw-  %-10d %s  %s\n", ino, fi.Size(), fi.ModTime().UTC().Format("15:04:05 Jan 02 2006"), filepath.Base(path))
	} else {
		b.WriteString("No files in directory\n")
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return api.Reply{Err: fmt.Sprintf("ERROR: failed to read file system of %s: %v", dir, err)}
	}
	total, free := st.Blocks*uint64(st.Bsize), st.Bavail*uint64(st.Bsize)
	pct := uint64(0)
	if total > 0 {
		pct = free * 100 / total
	}
	fmt.Fprintf(&b, "\n%d bytes total (%d bytes free/%d%% free)\n", total, free, pct)
	return api.Reply{Output: b.String()}
}
