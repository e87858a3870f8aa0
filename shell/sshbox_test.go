package shell_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sshBox is a real OpenSSH server and a real failoverd in a network
// namespace of the test's own (loopback only), set up as the README says:
// examples/sshd-fosh.conf as written (only the fosh path and the group name
// changed), a user in that group whose login shell is /bin/sh.
type sshBox struct {
	ns, dir, sock string
	user, key     string // login and private key of the operator
	config        string // the daemon's startup-config file
	sshdLog       *bytes.Buffer
}

const sshPort = "2222"

func startSSHBox(t *testing.T) *sshBox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace, a user and sshd")
	}
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, bin := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "ip", "useradd", "groupadd"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed: %v", bin, err)
		}
	}
	// Not t.TempDir: the operator (not root) must reach fosh and the socket.
	dir, err := os.MkdirTemp("", "fo-ssh-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sshBuild(t, dir)
	id := sshRandHex(4)
	b := &sshBox{ns: "fo-ssh-" + id, dir: dir, sock: filepath.Join(dir, "fo.sock"), user: "fot" + id,
		key: filepath.Join(dir, "user"), config: filepath.Join(dir, "startup-config"), sshdLog: &bytes.Buffer{}}

	// The group and the operator, removed at the end.
	group := b.user
	sshRun(t, "groupadd", "--system", group)
	t.Cleanup(func() { exec.Command("groupdel", group).Run() })
	// "*": no password, but not a locked account (sshd refuses those).
	sshRun(t, "useradd", "-M", "-d", dir, "-g", group, "-s", "/bin/sh", "-p", "*", b.user)
	t.Cleanup(func() { exec.Command("userdel", b.user).Run() })

	sshRun(t, "ip", "netns", "add", b.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", b.ns).Run() })
	sshRun(t, "ip", "-n", b.ns, "link", "set", "lo", "up")
	b.startDaemon(t, group)

	for _, k := range []string{"host", "user"} {
		sshRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k))
	}
	if err := os.Rename(filepath.Join(dir, "user.pub"), filepath.Join(dir, "authorized_keys")); err != nil {
		t.Fatal(err)
	}
	snippet, err := os.ReadFile("../examples/sshd-fosh.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.ReplaceAll(string(snippet), "/usr/local/bin/fosh", filepath.Join(dir, "fosh"))
	conf = strings.ReplaceAll(conf, "Match Group fosh", "Match Group "+group)
	if conf == string(snippet) || !strings.Contains(conf, "Match Group "+group) {
		t.Fatal("examples/sshd-fosh.conf no longer has the ForceCommand and Match lines this test adapts")
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	// The snippet is included as a distribution's sshd_config does with
	// sshd_config.d; the socket path is the only setting added.
	cfg := fmt.Sprintf(`Port %[3]s
ListenAddress 127.0.0.1
HostKey %[1]s/host
AuthorizedKeysFile %[1]s/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile %[1]s/sshd.pid
SetEnv FOSH_SOCKET=%[2]s
Include %[1]s/fosh.conf
`, dir, b.sock, sshPort)
	for name, text := range map[string]string{"sshd_config": cfg, "fosh.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sshd := exec.Command("ip", "netns", "exec", b.ns, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	sshd.Stderr = b.sshdLog
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sshd.Process.Kill()
		sshd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", b.sshdLog)
		}
	})
	sshWaitFor(t, func() bool { return b.ssh("show curpriv").Run() == nil })
	return b
}

// startDaemon runs failoverd in the namespace; its socket belongs to group.
func (b *sshBox) startDaemon(t *testing.T, group string) {
	t.Helper()
	d := exec.Command("ip", "netns", "exec", b.ns, filepath.Join(b.dir, "failoverd"), "--config", b.config, "--socket", b.sock)
	d.Stderr = io.Discard
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	sshWaitFor(t, func() bool { _, err := os.Stat(b.sock); return err == nil })
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(b.sock, -1, gid); err != nil {
		t.Fatal(err)
	}
}

// ssh is the ssh client command for the operator, in the namespace.
func (b *sshBox) ssh(args ...string) *exec.Cmd {
	a := []string{"netns", "exec", b.ns, "ssh", "-i", b.key, "-p", sshPort,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") { // ssh options
		a = append(a, args[0])
		args = args[1:]
	}
	return exec.Command("ip", append(append(a, b.user+"@127.0.0.1"), args...)...)
}
