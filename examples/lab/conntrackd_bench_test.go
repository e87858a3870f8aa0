package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// BenchmarkPairConntrackd is BenchmarkPairStateful's "on" rows for the
// usual Linux alternative: keepalived (VRRPv2, advert_int 1, like the
// sample configuration's 1 s / 3 s unit timers) with conntrackd FTFW over
// the failover link, wired as conntrackd's documentation recommends (its
// primary-backup.sh from the keepalived sync group's notify_master,
// notify_backup and notify_fault). Same lab, same flows (the same
// generator), a new lab per run. Rows: power failure of the active unit,
// kill -9 of its daemons (keepalived and conntrackd, links up), and
// planned: pairRuns() switchovers in one lab by stopping keepalived on the
// master (SIGTERM; see keepalivedPlanned), measured as BenchmarkPairStateful's
// on/planned row.
//
// NAT: the lab's masquerade picks the outgoing interface's primary
// address, which on a keepalived box is its own address (198.51.100.4 or
// .5), not the virtual one added after it: every translated flow is bound
// to an address that dies with the box, replicated or not. The snat-vip
// rows replace it with "snat to" the virtual address, as a keepalived pair
// that translates is configured; the masquerade row shows the lab's rule.
//
// Needs keepalived and conntrackd (Debian: keepalived, conntrackd), and
// Debian's primary-backup.sh; skips without them.
//
//	go test -run XXX -bench BenchmarkPairConntrackd -benchtime 3x -timeout 40m ./examples/lab/
func BenchmarkPairConntrackd(b *testing.B) {
	b.Run("snat-vip/planned", func(b *testing.B) {
		var t plannedTally
		eachLab(b, func(tb testing.TB) {
			k := newPairConntrackd(tb, true)
			k.l.waitHolds("primary", time.Now(), 20*time.Second)
			flows := startCheckedFlows(tb, k.l, statefulBenchTCP, statefulBenchUDP)
			benchPlanned(b, "snat-vip/planned", k.l, flows, keepalivedPlanned(k), &t)
			b.Logf("conntrackd commits: primary: %s; secondary: %s", conntrackdCommitted(k.l, "primary"), conntrackdCommitted(k.l, "secondary"))
		})
		t.report(b)
	})
	for _, m := range []struct {
		name string
		snat bool
		kill bool
	}{{"snat-vip/power", true, false}, {"snat-vip/kill", true, true}, {"masquerade/power", false, false}} {
		b.Run(m.name, func(b *testing.B) {
			var t flowTally
			eachLab(b, func(tb testing.TB) {
				k := newPairConntrackd(tb, m.snat)
				l := k.l
				l.waitHolds("primary", time.Now(), 20*time.Second)
				flows := startCheckedFlows(tb, l, statefulBenchTCP, statefulBenchUDP)
				fail := func() { l.powerOff("primary", func() error { k.kill("primary"); return nil }) }
				if m.kill {
					fail = func() { k.kill("primary") }
				}
				dead := failOverUntil(tb, flows, "secondary", fail, func(start time.Time) time.Duration {
					return l.waitHolds("secondary", start, 30*time.Second)
				})
				t.add(b, m.name, flows, dead)
				b.Logf("secondary's conntrackd: %s", conntrackdCommitted(l, "secondary"))
				b.Logf("secondary's table: %s", serverFirstEntries(l, "secondary"))
			})
			t.report(b)
		})
	}
}

// conntrackdDoc is where Debian's conntrackd package puts the sync examples.
const conntrackdDoc = "/usr/share/doc/conntrackd/examples/sync"

// newPairConntrackd is a keepalived pair with conntrackd started in each
// unit before keepalived, and the notify script wired in.
func newPairConntrackd(b testing.TB, snatVIP bool) *pairKeepalived {
	for _, c := range []string{"conntrackd", "conntrack"} {
		if _, err := exec.LookPath(c); err != nil {
			b.Skipf("%s not installed (apt-get install -y conntrackd conntrack)", c)
		}
	}
	script, err := os.ReadFile(filepath.Join(conntrackdDoc, "primary-backup.sh"))
	if err != nil {
		b.Skipf("conntrackd's primary-backup.sh not found (Debian package conntrackd): %v", err)
	}
	tmpl, err := os.ReadFile(filepath.Join(pairRoot(b), "examples", "lab", "keepalived", "conntrackd.conf.in"))
	if err != nil {
		b.Fatal(err)
	}
	failoverAddr := map[string][2]string{"primary": {"192.0.2.17", "192.0.2.18"}, "secondary": {"192.0.2.18", "192.0.2.17"}}
	return newPairKeepalivedWith(b, false, func(l *pairLab, u string) string {
		ns := l.unitNS(u)
		a := failoverAddr[u]
		for _, c := range [][]string{
			{"ip", "-n", ns, "addr", "add", a[0] + "/29", "dev", "failover"},
			// events for every entry, also those made before a listener
			// subscribed (this kernel's default, 2, gives none for them)
			{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.netfilter.nf_conntrack_events=1"},
		} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				b.Fatalf("%v: %v\n%s", c, err, out)
			}
		}
		if snatVIP {
			rules := "flush chain ip lab_nat postrouting\n" +
				"add rule ip lab_nat postrouting ip saddr 192.0.2.0/28 oifname \"outside\" snat to 198.51.100.2\n"
			c := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
			c.Stdin = strings.NewReader(rules)
			if out, err := c.CombinedOutput(); err != nil {
				b.Fatalf("snat rule in %s: %v\n%s", u, err, out)
			}
		}
		conf := filepath.Join(l.dir, "conntrackd-"+u+".conf")
		cfg := strings.NewReplacer("@LOCAL@", a[0], "@PEER@", a[1], "@DIR@", l.dir, "@UNIT@", u).Replace(string(tmpl))
		if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
			b.Fatal(err)
		}
		// Debian's script, only its paths changed to this unit's files.
		sh := regexp.MustCompile(`(?m)^CONNTRACKD_LOCK=.*$`).ReplaceAllString(string(script), "CONNTRACKD_LOCK="+filepath.Join(l.dir, "conntrackd-"+u+".lock"))
		sh = regexp.MustCompile(`(?m)^CONNTRACKD_CONFIG=.*$`).ReplaceAllString(sh, "CONNTRACKD_CONFIG="+conf)
		shPath := filepath.Join(l.dir, "primary-backup-"+u+".sh")
		if err := os.WriteFile(shPath, []byte(sh), 0o755); err != nil {
			b.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(l.dir, "conntrackd-"+u+".out"))
		if err != nil {
			b.Fatal(err)
		}
		defer logf.Close()
		cmd := exec.Command("ip", "netns", "exec", ns, "conntrackd", "-C", conf)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			b.Fatalf("start conntrackd in %s: %v", u, err)
		}
		b.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if b.Failed() {
				if out, err := os.ReadFile(filepath.Join(l.dir, "conntrackd-"+u+".log")); err == nil {
					b.Logf("conntrackd-%s.log (tail):\n%s", u, tail(string(out), 40))
				}
			}
		})
		ctl := filepath.Join(l.dir, "conntrackd-"+u+".ctl")
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(ctl); err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("conntrackd in %s did not open %s", u, ctl)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return "\tnotify_master \"" + shPath + " primary\"\n" +
			"\tnotify_backup \"" + shPath + " backup\"\n" +
			"\tnotify_fault \"" + shPath + " fault\""
	})
}

// conntrackdCommitted is what unit's conntrackd log says about its commits.
func conntrackdCommitted(l *pairLab, u string) string {
	out, err := os.ReadFile(filepath.Join(l.dir, "conntrackd-"+u+".log"))
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, s := range strings.Split(string(out), "\n") {
		if strings.Contains(s, "ommit") {
			lines = append(lines, strings.TrimSpace(s))
		}
	}
	return strings.Join(lines, "; ")
}

// serverFirstEntries counts the entries of unit's table that a packet from
// the server made (original source 203.0.113.10): none exist while every
// flow goes through a replicated or client-made entry; one is the mark of
// a server packet that reached the new active before the commit (it was
// delivered to the box itself, which answered it; the committed entry then
// clashes with it).
func serverFirstEntries(l *pairLab, u string) string {
	out, err := exec.Command("ip", "netns", "exec", l.unitNS(u), "conntrack", "-L", "-s", pairServer).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("conntrack -L: %v: %s", err, out)
	}
	n := 0
	for _, s := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(s, "tcp") || strings.HasPrefix(s, "udp") {
			n++
		}
	}
	return fmt.Sprintf("%d entries made by a packet from the server", n)
}
