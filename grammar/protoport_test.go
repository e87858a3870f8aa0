package grammar

import "testing"

func TestParseProtoPort(t *testing.T) {
	for _, c := range []struct {
		in    string
		proto string
		port  int
		ok    bool
	}{
		{"udp", "udp", 514, true},
		{"tcp", "tcp", 1470, true},
		{"TCP/1514", "tcp", 1514, true},
		{"udp/5514", "udp", 5514, true},
		{"tcp/0", "", 0, false},
		{"tcp/65536", "", 0, false},
		{"tcp/+5", "", 0, false},
		{"tcp/", "", 0, false},
		{"sctp/5", "", 0, false},
		{"6/1470", "", 0, false},
	} {
		p, n, err := ParseProtoPort(c.in)
		if p != c.proto || n != c.port || (err == nil) != c.ok {
			t.Errorf("ParseProtoPort(%q) = %q, %d, %v", c.in, p, n, err)
		}
	}
}

func TestLoggingHostProtocol(t *testing.T) {
	g, err := Product()
	if err != nil {
		t.Fatal(err)
	}
	chain := ModeConfig.Chain()
	if inv, perr := g.ParseChain(chain, "logging host inside 192.0.2.5 tcp/1514"); perr != nil || inv.Str("protocol") != "tcp/1514" {
		t.Errorf("tcp/1514: %v %+v", perr, inv)
	}
	if _, perr := g.ParseChain(chain, "logging host inside 192.0.2.5 tcp/70000"); perr == nil || perr.Kind != ErrValue {
		t.Errorf("tcp/70000: %v, want a value error", perr)
	}
	if _, perr := g.ParseChain(chain, "logging host inside 192.0.2.5 bogus"); perr == nil || perr.Kind != ErrInvalid {
		t.Errorf("bogus: %v, want the caret error", perr)
	}
}
