package config

import (
	"errors"
	"testing"

	"failover/grammar"
)

func TestUnsupportedCommands(t *testing.T) {
	for _, line := range []string{"fixup protocol ftp 21", "access-list 101 permit ip any any", "ip audit info action alarm", "PIX Version 6.3(5)", "no fixup protocol smtp 25", "global (outside) 1 interface"} {
		for _, m := range []grammar.Mode{grammar.ModeConfig, grammar.ModeSLAEcho} {
			_, err := Parse(&Ctx{Mode: m}, line)
			var u *UnsupportedError
			if !errors.As(err, &u) {
				t.Errorf("%q in %v: got %v, want an unsupported-command error", line, m, err)
			}
		}
	}
}
