module failover

go 1.26.0

require (
	github.com/creack/pty v1.1.24
	github.com/mdlayher/netlink v1.7.2
	github.com/mdlayher/packet v1.2.0
	github.com/prometheus-community/pro-bing v0.9.1
	github.com/rogpeppe/go-internal v1.16.0
	github.com/ti-mo/conntrack v0.6.0
	github.com/ti-mo/netfilter v0.5.3
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/net v0.59.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/josharian/native v1.1.0 // indirect
	github.com/mdlayher/socket v0.7.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
