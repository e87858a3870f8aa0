// Package debpkg tests the Debian package "make deb" builds: its files and
// modes, and a real install with dpkg: the unit passes systemd-analyze
// verify, the man pages render, and removing the package keeps the
// configuration.
package debpkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestDebPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: dpkg -i")
	}
	for _, c := range []string{"dpkg", "dpkg-deb", "man", "systemd-analyze"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs %s", c)
		}
	}
	if exec.Command("dpkg-query", "-W", "failover").Run() == nil {
		t.Skip("a failover package is installed on this machine: not replacing it")
	}
	root, _ := filepath.Abs("../..")
	run(t, "make", "-C", root, "deb")
	debs, _ := filepath.Glob(filepath.Join(root, "bin", "failover_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %v", debs)
	}
	deb := debs[0]

	// Contents and modes, as dpkg-deb lists them.
	list := run(t, "dpkg-deb", "-c", deb)
	for _, want := range []string{
		"./etc/failover/\n", "./etc/failover/notify.d/\n",
		"-rwxr-xr-x root/root", "./usr/sbin/failoverd\n", "./usr/bin/fosh\n", "./usr/bin/failover-snmp\n",
		"./lib/systemd/system/failoverd.service\n", "./usr/lib/sysusers.d/failover.conf\n",
		"./usr/share/man/man8/failoverd.8.gz\n", "./usr/share/man/man1/fosh.1.gz\n",
		"./usr/share/man/man5/failover-config.5.gz\n", "./usr/share/doc/failover/examples/sshd-fosh.conf\n",
		"./usr/share/doc/failover/examples/snmpd.conf\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("package listing lacks %q:\n%s", want, list)
		}
	}
	for _, l := range strings.Split(list, "\n") {
		if strings.HasSuffix(l, " ./etc/failover/") && !strings.HasPrefix(l, "drwxr-x--- root/root") {
			t.Errorf("/etc/failover in the package: %q, want drwxr-x--- root/root", l)
		}
	}

	// A real install. Whatever this test creates goes again at the end.
	groupExisted := exec.Command("getent", "group", "fosh").Run() == nil
	_, statErr := os.Stat("/etc/failover")
	etcExisted := statErr == nil
	t.Cleanup(func() {
		exec.Command("dpkg", "--purge", "failover").Run()
		if !groupExisted {
			exec.Command("groupdel", "fosh").Run()
		}
		if !etcExisted {
			os.RemoveAll("/etc/failover")
		}
	})
	run(t, "dpkg", "-i", deb)
	if out := run(t, "getent", "group", "fosh"); !strings.HasPrefix(out, "fosh:") {
		t.Errorf("postinst did not create group fosh: %q", out)
	}
	if fi, err := os.Stat("/etc/failover"); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("/etc/failover: %v %v, want mode 0750", fi, err)
	}
	if v := run(t, "/usr/sbin/failoverd", "--version"); !strings.HasPrefix(v, "failoverd ") {
		t.Errorf("failoverd --version: %q", v)
	}
	// The unit verifies against what the package installed (binaries, man
	// pages named in Documentation=).
	if out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/failoverd.service").CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for page, want := range map[string]string{"fosh": "PIX-style shell", "8 failoverd": "--check", "5 failover-config": "logging host"} {
		out := run(t, "man", strings.Fields(page)...)
		if !strings.Contains(out, want) {
			t.Errorf("man %s does not render %q:\n%s", page, want, out)
		}
	}
	cfg := "/etc/failover/startup-config"
	os.WriteFile(cfg, []byte("hostname kept\n"), 0o600)
	if out := run(t, "/usr/sbin/failoverd", "--check", cfg); !strings.Contains(out, "configuration OK") {
		t.Errorf("--check of the installed config: %s", out)
	}

	run(t, "dpkg", "-r", "failover")
	if _, err := os.Stat("/usr/sbin/failoverd"); err == nil {
		t.Error("failoverd still installed after dpkg -r")
	}
	if b, err := os.ReadFile(cfg); err != nil || string(b) != "hostname kept\n" {
		t.Errorf("dpkg -r did not keep the configuration: %q %v", b, err)
	}
}
