package shell_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The automation clients operators use, stock and unmodified, drive fosh
// over the real OpenSSH server of an sshBox: netmiko's cisco_asa driver
// and Ansible's cisco.asa collection. Every result is checked against the
// device itself (fosh's own output, the startup-config file).

const enableSecret = "s3cret"

// debianPython is the interpreter Debian's python3-netmiko and ansible
// are installed for (another python3 may come first on PATH).
const debianPython = "/usr/bin/python3"

// fosh runs lines on the box's daemon directly (as root, no SSH) and
// returns the output.
func (b *sshBox) fosh(t *testing.T, lines ...string) string {
	t.Helper()
	args := []string{"--socket", b.sock}
	for _, l := range lines {
		args = append(args, "-c", l)
	}
	out, err := exec.Command(filepath.Join(b.dir, "fosh"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("fosh %q: %v\n%s", lines, err, out)
	}
	return string(out)
}

// startAutomationBox is an sshBox whose daemon has an enable password and a
// little failover configuration.
func startAutomationBox(t *testing.T, tools ...string) *sshBox {
	t.Helper()
	if os.Geteuid() == 0 {
		for _, tool := range tools {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("%s is not installed (make deps installs it): %v", tool, err)
			}
		}
	}
	b := startSSHBox(t)
	b.fosh(t, "enable", "configure terminal", "enable password "+enableSecret, "failover poll 5", "failover timeout 0:00:30", "end", "write memory")
	return b
}

var checksumLine = regexp.MustCompile(`(?m)^Cryptochecksum:[0-9a-f]{32}$`)

// saved checks that the startup-config file holds the running
// configuration (same checksum) and every one of lines.
func (b *sshBox) saved(t *testing.T, lines ...string) {
	t.Helper()
	file, err := os.ReadFile(b.config)
	if err != nil {
		t.Fatal(err)
	}
	run := b.fosh(t, "enable", enableSecret, "show running-config")
	if fc, rc := checksumLine.FindString(string(file)), checksumLine.FindString(run); fc == "" || fc != rc {
		t.Fatalf("startup-config checksum %q, running %q", fc, rc)
	}
	for _, l := range lines {
		if !strings.Contains(string(file), "\n"+l+"\n") || !strings.Contains(run, "\n"+l+"\n") {
			t.Fatalf("%q is not in both the running and the startup-config:\n%s", l, file)
		}
	}
}

func TestNetmikoASA(t *testing.T) {
	b := startAutomationBox(t, debianPython)
	if err := exec.Command(debianPython, "-c", "import netmiko").Run(); err != nil {
		t.Fatalf("python3-netmiko is not installed (make deps installs it): %v", err)
	}
	lines := []string{"logging timestamp", "names", "name 192.0.2.10 server1"}
	env, _ := json.Marshal(map[string]any{"port": sshPort, "user": b.user, "key": b.key, "secret": enableSecret, "config_lines": lines})
	cmd := exec.Command("ip", "netns", "exec", b.ns, debianPython, "testdata/netmiko_asa.py")
	cmd.Env = append(os.Environ(), "FOSH_TEST="+string(env))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netmiko: %v\n%s", err, stderr.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("netmiko printed %q: %v", out, err)
	}
	t.Logf("netmiko results: %q", r)
	str := func(k string) string { s, _ := r[k].(string); return s }
	if str("prompt") != "pixfirewall#" || r["enable_mode"] != true {
		t.Errorf("after connect: prompt %q, enable mode %v", str("prompt"), r["enable_mode"])
	}
	if want := strings.TrimRight(b.fosh(t, "show failover"), "\n"); str("show_failover") != want {
		t.Errorf("show failover: %q, want %q", str("show_failover"), want)
	}
	if v := str("show_version"); !strings.Contains(v, "Serial Number: ") || !strings.HasPrefix(v, "failover Software Version ") {
		t.Errorf("show version: %q", v)
	}
	if want := strings.TrimRight(b.fosh(t, "enable", enableSecret, "show running-config | include failover"), "\n"); str("include_failover") != want || !strings.Contains(want, "failover poll 5") {
		t.Errorf("show running-config | include failover: %q, want %q", str("include_failover"), want)
	}
	if r["config_mode_after"] != false {
		t.Errorf("still in configuration mode after send_config_set")
	}
	b.saved(t, lines...)
	if inv := str("invalid"); !strings.Contains(inv, "ERROR: % Invalid input detected at '^' marker.") {
		t.Errorf("invalid command: %q", inv)
	}
	if r["enable_mode_after_exit"] != false || str("prompt_after_exit") != "pixfirewall>" || !strings.Contains(str("curpriv_after_exit"), "Current privilege level : 1\n") {
		t.Errorf("after exit_enable_mode: enable %v, prompt %q, %q", r["enable_mode_after_exit"], str("prompt_after_exit"), str("curpriv_after_exit"))
	}
	for k, v := range r {
		if s, ok := v.(string); ok && strings.ContainsAny(s, "\x1b\b") {
			t.Errorf("%s carries escape sequences or backspaces: %q", k, s)
		}
	}
}

func TestAnsibleASA(t *testing.T) {
	b := startAutomationBox(t, "ansible-playbook", debianPython)
	work := t.TempDir()
	inventory := fmt.Sprintf(`[asa]
fw ansible_host=127.0.0.1 ansible_port=%s

[asa:vars]
ansible_connection=ansible.netcommon.network_cli
ansible_network_os=cisco.asa.asa
ansible_network_cli_ssh_type=paramiko
ansible_user=%s
ansible_ssh_private_key_file=%s
ansible_become=yes
ansible_become_method=ansible.netcommon.enable
ansible_become_password=%s
ansible_python_interpreter=%s
`, sshPort, b.user, b.key, enableSecret, debianPython)
	if err := os.WriteFile(filepath.Join(work, "hosts"), []byte(inventory), 0o600); err != nil {
		t.Fatal(err)
	}
	backupDir := filepath.Join(work, "backup")
	cmd := exec.Command("ip", "netns", "exec", b.ns, "ansible-playbook", "-i", filepath.Join(work, "hosts"),
		"-e", "results_dir="+work, "-e", "backup_dir="+backupDir, "testdata/asa_playbook.yml")
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+filepath.Join(work, "home"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(work, "tmp"),
		"ANSIBLE_PERSISTENT_CONTROL_PATH_DIR="+filepath.Join(work, "pc"), "ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD=True", "ANSIBLE_NOCOLOR=1", "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT=60")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(work, "results.json"))
	if err != nil {
		t.Fatalf("no results: %v\n%s", err, out)
	}
	type configResult struct {
		Changed bool `json:"changed"`
	}
	type factsResult struct {
		Facts map[string]any `json:"ansible_facts"`
	}
	var r struct {
		Commands struct {
			Stdout []string `json:"stdout"`
		} `json:"commands"`
		ConfigFirst configResult `json:"config_first"`
		ConfigAgain configResult `json:"config_again"`
		Backup      struct {
			BackupPath string `json:"backup_path"`
		} `json:"backup"`
		FactsMin     factsResult `json:"facts_min"`
		FactsDefault factsResult `json:"facts_default"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	t.Logf("ansible results: %s", raw)

	if len(r.Commands.Stdout) != 2 || r.Commands.Stdout[0] != strings.TrimRight(b.fosh(t, "show failover"), "\n") ||
		!strings.Contains(r.Commands.Stdout[1], "Serial Number: ") {
		t.Errorf("asa_command: %q", r.Commands.Stdout)
	}
	lines := []string{"logging timestamp", "names", "name 198.51.100.7 ansible-peer"}
	if !r.ConfigFirst.Changed {
		t.Errorf("the first asa_config reported no change")
	}
	b.saved(t, lines...) // save_when: modified saved it
	if r.ConfigAgain.Changed {
		t.Errorf("re-running asa_config reported a change")
	}
	backup, err := os.ReadFile(r.Backup.BackupPath)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if want := strings.TrimSpace(b.fosh(t, "enable", enableSecret, "show running-config")); strings.TrimSpace(string(backup)) != want {
		t.Errorf("backup %s is not the running-config:\n%q\nwant:\n%q", r.Backup.BackupPath, backup, want)
	}

	serial := regexp.MustCompile(`Serial Number: (\S+)`).FindStringSubmatch(b.fosh(t, "show version"))
	for name, f := range map[string]map[string]any{"min": r.FactsMin.Facts, "default": r.FactsDefault.Facts} {
		if f["ansible_net_hostname"] != "pixfirewall" || f["ansible_net_system"] != "asa" || f["ansible_net_serialnum"] != serial[1] ||
			f["ansible_net_version"] == nil {
			t.Errorf("asa_facts %s: %v", name, f)
		}
	}
	d := r.FactsDefault.Facts
	if fs, _ := d["ansible_net_filesystems"].([]any); len(fs) != 1 || fs[0] != b.dir {
		t.Errorf("filesystems %v, want [%s]", d["ansible_net_filesystems"], b.dir)
	}
	if mem, _ := d["ansible_net_memtotal_mb"].(float64); mem <= 0 {
		t.Errorf("memtotal_mb %v", d["ansible_net_memtotal_mb"])
	}
}
