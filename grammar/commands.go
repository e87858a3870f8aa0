package grammar

import (
	"strings"
	"sync"
)

var (
	cfg      = []Mode{ModeConfig}
	exec     = []Mode{ModeExec}
	allModes = []Mode{ModeExec, ModeConfig, ModeIf, ModeSLA, ModeSLAEcho, ModeTrack}
	subModes = []Mode{ModeConfig, ModeIf, ModeSLA, ModeSLAEcho, ModeTrack}
)

var common = map[string]string{
	"if_name":    "Name given to the interface with nameif",
	"ip_address": "IP address",
	"mask":       "Network mask",
	"failover":   "Enable/disable failover feature",
	"no":         "Negate a command or set its defaults",
	"show":       "Show running system information",
	"write":      "Write config to net, flash, or terminal, or erase flash",
	"logging":    "Configure logging levels, recipients and other options",
	"level":      "Logging level (0-7 or emergencies..debugging)",
	"sla":        "Service Level Agreement (SLA) commands",
	"monitor":    "SLA monitor operation",
	"sla_id":     "SLA operation number",
	"track_id":   "Tracked object number",
	"lan":        "LAN-based failover configuration",
	"interface":  "Interface",
	"terminal":   "Set terminal line parameters",
	"msec":       "Specify the time in milliseconds",
	"hmsec":      "Specify the hold time in milliseconds",
	"holdtime":   "Configure the time to wait before declaring the mate failed",
	"address":    "Address",
	"ip":         "Configure IP address",
}

func h(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range common {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// The product's command set, one declaration per command. Each is the
// single source for the command's parsing, help, completion, "no" form
// and running-config line, and the handle its handler is registered
// against: configuration handlers in engine/config, EXEC commands in
// engine and engine/cli.
var (

	// ---- EXEC ----
	EnableCmd         = &Decl{ID: "enable", Modes: exec, Syntax: "enable", Help: h("enable", "Turn on privileged commands")}
	DisableCmd        = &Decl{ID: "disable", Modes: exec, Syntax: "disable", Help: h("disable", "Exit from privileged mode")}
	ConfigureCmd      = &Decl{ID: "configure", Modes: exec, Priv: true, Syntax: "configure terminal", Help: h("configure", "Configure from terminal", "terminal", "Configure using terminal/console")}
	ExitCmd           = &Decl{ID: "exit", Modes: allModes, Syntax: "exit", Help: h("exit", "Exit from the current mode")}
	QuitCmd           = &Decl{ID: "quit", Modes: allModes, Syntax: "quit", Help: h("quit", "Exit from the current mode")}
	EndCmd            = &Decl{ID: "end", Modes: subModes, Syntax: "end", Help: h("end", "Exit from configure mode")}
	TerminalWidthCmd  = &Decl{ID: "terminal-width", Modes: allModes, Syntax: "terminal width <int(0-511):columns>", Help: h("width", "Set width of the display terminal", "columns", "Number of characters per line (0 = do not wrap)")}
	TerminalLengthCmd = &Decl{ID: "terminal-length", Modes: allModes, Syntax: "terminal length <int(0-512):lines>", Help: h("length", "Set number of lines on a screen", "lines", "Number of lines (0 = no pausing)")}
	TerminalPagerCmd  = &Decl{ID: "terminal-pager", Modes: allModes, NoMin: 2, Syntax: "terminal pager [lines] <int(0-512):lines>", Help: h("pager", "Control page length for pagination", "lines", "Number of lines per page (0 = no paging)")}
	ShowFailoverCmd   = &Decl{ID: "show-failover", Modes: exec, Syntax: "show failover [history|state|interface|statistics]", Help: h("failover", "Show failover status", "history", "Show failover switching history",
		"state", "Show failover internal state information", "interface", "Show failover command interface information", "statistics", "Show failover statistics")}
	ShowMonitorInterfaceCmd = &Decl{ID: "show-monitor-interface", Modes: exec, Syntax: "show monitor-interface", Help: h("monitor-interface", "Show monitored interfaces of the failover pair")}
	ShowConnCountCmd        = &Decl{ID: "show-conn-count", Modes: exec, Syntax: "show conn count", Help: h("conn", "Connection information", "count", "Number of connections in use")}
	ShowXlateCountCmd       = &Decl{ID: "show-xlate-count", Modes: exec, Syntax: "show xlate count", Help: h("xlate", "Current translation information", "count", "Number of translations in use")}
	ShowRunningCmd          = &Decl{ID: "show-running", Modes: exec, Priv: true, Syntax: "show running-config [all] [failover|route|sla|track|interface|logging]",
		Help: h("running-config", "Current operating configuration", "all", "Include default values", "failover", "Failover configuration", "route", "Static and tracked routes",
			"sla", "SLA monitor configuration", "track", "Tracked objects", "interface", "Interface configuration", "logging", "Logging configuration")}
	WriteTerminalCmd         = &Decl{ID: "write-terminal", Modes: exec, Priv: true, Syntax: "write terminal", Help: h("terminal", "Write to terminal")}
	WriteMemoryCmd           = &Decl{ID: "write-memory", Modes: exec, Priv: true, Syntax: "write memory", Help: h("memory", "Write to flash memory")}
	WriteEraseCmd            = &Decl{ID: "write-erase", Modes: exec, Priv: true, Syntax: "write erase", Help: h("erase", "Erase flash")}
	WriteStandbyCmd          = &Decl{ID: "write-standby", Modes: exec, Priv: true, Syntax: "write standby", Help: h("standby", "Write running configuration to the standby unit")}
	CopyRunStartCmd          = &Decl{ID: "copy-run-start", Modes: exec, Priv: true, Syntax: "copy running-config startup-config", Help: h("copy", "Copy from one file to another", "running-config", "Copy from current system configuration", "startup-config", "Copy to startup configuration")}
	ShowStartupCmd           = &Decl{ID: "show-startup", Modes: exec, Priv: true, Syntax: "show startup-config", Help: h("startup-config", "Contents of startup configuration")}
	ShowVersionCmd           = &Decl{ID: "show-version", Modes: exec, Syntax: "show version", Help: h("version", "Display system software and hardware status")}
	ShowInterfaceCmd         = &Decl{ID: "show-interface", Modes: exec, Syntax: "show interface [<ifany:interface_name>]", Help: h("interface", "Interface status and statistics", "interface_name", "Interface (hardware name or nameif)")}
	ShowIPAddressCmd         = &Decl{ID: "show-ip-address", Modes: exec, Priv: true, Syntax: "show ip address", Help: h("ip", "IP information", "address", "System and current IP addresses")}
	MoreSystemRunningCmd     = &Decl{ID: "more-system-running", Modes: exec, Priv: true, Syntax: "more system:running-config", Help: h("more", "Display the contents of a file", "system:running-config", "Running configuration with passwords and keys in clear")}
	DirCmd                   = &Decl{ID: "dir", Modes: exec, Priv: true, Syntax: "dir", Help: h("dir", "List files on the file system holding the startup-config")}
	ShowMemoryCmd            = &Decl{ID: "show-memory", Modes: exec, Syntax: "show memory", Help: h("memory", "System memory utilization")}
	ShowCurprivCmd           = &Decl{ID: "show-curpriv", Modes: exec, Syntax: "show curpriv", Help: h("curpriv", "Display current privilege level")}
	ShowHistoryCmd           = &Decl{ID: "show-history", Modes: exec, Syntax: "show history", Help: h("history", "Display the session command history")}
	ShowLoggingCmd           = &Decl{ID: "show-logging", Modes: exec, Priv: true, Syntax: "show logging", Help: h("logging", "Show logging configuration and buffer")}
	ClearLoggingCmd          = &Decl{ID: "clear-logging", Modes: exec, Priv: true, Syntax: "clear logging [buffer]", Help: h("clear", "Reset functions", "logging", "Clear logging buffer", "buffer", "Clear the logging buffer")}
	ShowRouteCmd             = &Decl{ID: "show-route", Modes: exec, Syntax: "show route", Help: h("route", "Show the routing table")}
	ShowTrackCmd             = &Decl{ID: "show-track", Modes: exec, Syntax: "show track [<int(1-500):track_id>]", Help: h("track", "Tracking information")}
	ShowSLAConfigCmd         = &Decl{ID: "show-sla-config", Modes: exec, Syntax: "show sla monitor configuration [<int(1-2147483647):sla_id>]", Help: h("configuration", "SLA monitor configuration")}
	ShowSLAOperCmd           = &Decl{ID: "show-sla-oper", Modes: exec, Syntax: "show sla monitor operational-state [<int(1-2147483647):sla_id>]", Help: h("operational-state", "SLA monitor operational state")}
	PingCmd                  = &Decl{ID: "ping", Modes: exec, Syntax: "ping [<ifname:if_name>] <host:host>", Help: h("ping", "Test connectivity from specified interface to an IP address", "host", "IP address or host name")}
	FailoverActiveCmd        = &Decl{ID: "failover-active", Modes: exec, Priv: true, NoMin: 2, Syntax: "failover active", Help: h("active", "Make this system the active unit of the failover pair")}
	FailoverResetCmd         = &Decl{ID: "failover-reset", Modes: exec, Priv: true, Syntax: "failover reset", Help: h("reset", "Force both units back to an unfailed state")}
	FailoverReloadStandbyCmd = &Decl{ID: "failover-reload-standby", Modes: exec, Priv: true, Syntax: "failover reload-standby", Help: h("reload-standby", "Force the standby unit to reload (negotiate and synchronise again)")}
	FailoverExecCmd          = &Decl{ID: "failover-exec", Modes: exec, Priv: true, Syntax: "failover exec (active|standby|mate) <line:command>", Help: h("exec", "Execute a command on a unit of the failover pair",
		"active", "Execute on the active unit", "standby", "Execute on the standby unit", "mate", "Execute on the mate unit",
		"command", "Command to run there (configuration mode at first, kept between calls)")}

	// ---- basic configuration ----
	HostnameCmd       = &Decl{ID: "hostname", Modes: cfg, NoMin: 1, Syntax: "hostname <word:name>", Help: h("hostname", "Change host name", "name", "Host name (up to 63 characters)")}
	EnablePasswordCmd = &Decl{ID: "enable-password", Modes: cfg, NoMin: 2, Syntax: "enable password <word:password> [encrypted]", Help: h("enable", "Configure the enable password", "password", "Configure the password", "encrypted", "The password given is already a hash")}
	InterfaceCmd      = &Decl{ID: "interface", Section: SecInterface, Modes: cfg, Syntax: "interface <hwid:hardware_id> [auto|10baset|10full|100basetx|100full|1000auto|1000full|shutdown]",
		Help: h("interface", "Configure interfaces", "hardware_id", "Linux interface name (eth0, veth-out, ...)", "auto", "Link up, speed auto-negotiated",
			"10baset", "10 Mbps half duplex (accepted, the kernel negotiates)", "10full", "10 Mbps full duplex (accepted, the kernel negotiates)",
			"100basetx", "100 Mbps half duplex (accepted, the kernel negotiates)", "100full", "100 Mbps full duplex (accepted, the kernel negotiates)",
			"1000auto", "1000 Mbps auto (accepted, the kernel negotiates)", "1000full", "1000 Mbps full duplex (accepted, the kernel negotiates)",
			"shutdown", "Set the link administratively down")}
	NameifCmd           = &Decl{ID: "nameif", Section: SecInterface, Modes: cfg, NoMin: 2, Syntax: "nameif <hwid:hardware_id> <word:if_name> <security:security_level>", Help: h("nameif", "Assign a name and security level to an interface", "hardware_id", "Linux interface name", "if_name", "Name for the interface", "security_level", "Security level (security0 - security100)")}
	IPAddressCmd        = &Decl{ID: "ip-address", Section: SecInterface, Local: LANLocal, Modes: cfg, NoMin: 3, Syntax: "ip address <ifname:if_name> <ipv4:ip_address> <mask:mask>", Help: h("address", "Set the system IP address of an interface")}
	MTUCmd              = &Decl{ID: "mtu", Section: SecInterface, Modes: cfg, NoMin: 2, Syntax: "mtu <ifname:if_name> <int(64-65535):bytes>", Help: h("mtu", "Specify MTU (Maximum Transmission Unit) for an interface", "bytes", "MTU in bytes")}
	PagerCmd            = &Decl{ID: "pager", Modes: cfg, NoMin: 1, Syntax: "pager [lines <int(1-512):lines>]", Help: h("pager", "Control page length for pagination", "lines", "Number of lines per page")}
	LoggingOnCmd        = &Decl{ID: "logging-on", Section: SecLogging, Modes: cfg, NoMin: 2, Syntax: "logging on", Help: h("on", "Enable logging to all output locations")}
	LoggingTimestampCmd = &Decl{ID: "logging-timestamp", Section: SecLogging, Modes: cfg, NoMin: 2, Syntax: "logging timestamp", Help: h("timestamp", "Add a timestamp to each syslog message")}
	LoggingHostCmd      = &Decl{ID: "logging-host", Section: SecLogging, Modes: cfg, NoMin: 4, Syntax: "logging host <ifname:if_name> <ipv4:ip_address> [<protoport:protocol>]",
		Help: h("host", "Set syslog server IP address and parameters", "ip_address", "Syslog server IP address", "protocol", "Protocol and port: udp[/port] (default udp/514) or tcp[/port] (default tcp/1470)")}
	LoggingTrapCmd     = &Decl{ID: "logging-trap", Section: SecLogging, Modes: cfg, NoMin: 2, Syntax: "logging trap <level:level>", Help: h("trap", "Set syslog server logging level")}
	LoggingBufferedCmd = &Decl{ID: "logging-buffered", Section: SecLogging, Modes: cfg, NoMin: 2, Syntax: "logging buffered <level:level>", Help: h("buffered", "Set logging level for the internal buffer")}
	LoggingConsoleCmd  = &Decl{ID: "logging-console", Section: SecLogging, Modes: cfg, NoMin: 2, Syntax: "logging console <level:level>", Help: h("console", "Set console logging level")}
	NamesCmd           = &Decl{ID: "names", Modes: cfg, NoMin: 1, Syntax: "names", Help: h("names", "Enable the use of name aliases for IP addresses")}
	NameCmd            = &Decl{ID: "name", Modes: cfg, NoMin: 2, Syntax: "name <ipv4:ip_address> <word:name>", Help: h("name", "Associate a name with an IP address", "name", "Name alias")}
	PromptCmd          = &Decl{ID: "prompt", Modes: cfg, NoMin: 1, Syntax: "prompt hostname [priority] [state]", Help: h("prompt", "Customize the CLI prompt", "hostname", "Show the host name", "priority", "Show the failover priority (pri/sec)", "state", "Show the failover state (act/stby)")}

	// ---- ASA interface sub-mode (input forms, rendered natively) ----
	IfNameifCmd    = &Decl{ID: "if-nameif", Modes: []Mode{ModeIf}, NoMin: 1, Syntax: "nameif <word:if_name>", Help: h("nameif", "Assign name to interface", "if_name", "Name for the interface")}
	IfSecurityCmd  = &Decl{ID: "if-security", Modes: []Mode{ModeIf}, NoMin: 1, Syntax: "security-level <int(0-100):level>", Help: h("security-level", "Specify the security level of this interface", "level", "Security level")}
	IfIPAddressCmd = &Decl{ID: "if-ip-address", Modes: []Mode{ModeIf}, NoMin: 2, Syntax: "ip address <ipv4:ip_address> <mask:mask> [standby <ipv4:standby_ip>]", Help: h("address", "Configure the IP address", "standby", "Standby unit's address", "standby_ip", "Standby IP address")}
	IfShutdownCmd  = &Decl{ID: "if-shutdown", Modes: []Mode{ModeIf}, NoMin: 1, Syntax: "shutdown", Help: h("shutdown", "Shut down the selected interface")}

	// ---- failover ----
	FailoverCmd             = &Decl{ID: "failover", Section: SecFailover, Local: UnitLocal, Modes: cfg, NoMin: 1, Syntax: "failover", Help: h()}
	FailoverLanUnitCmd      = &Decl{ID: "failover-lan-unit", Section: SecFailover, Local: UnitLocal, Modes: cfg, NoMin: 3, Syntax: "failover lan unit (primary|secondary)", Help: h("unit", "Specify the unit role", "primary", "Primary unit", "secondary", "Secondary unit")}
	FailoverLanInterfaceCmd = &Decl{ID: "failover-lan-interface", Section: SecFailover, Local: UnitLocal, Modes: cfg, NoMin: 3, Syntax: "failover lan interface <ifname:if_name> [<hwid:hardware_id>]", Help: h("interface", "Specify the LAN failover interface", "hardware_id", "Linux interface to name (ASA form)")}
	FailoverLanKeyCmd       = &Decl{ID: "failover-lan-key", Section: SecFailover, Local: UnitLocal, Modes: cfg, NoMin: 3, Syntax: "failover lan key <word:secret>", Help: h("key", "Shared secret authenticating failover messages", "secret", "Shared secret")}
	FailoverKeyCmd          = &Decl{ID: "failover-key", Section: SecFailover, Local: UnitLocal, Modes: cfg, NoMin: 2, Hidden: true, Syntax: "failover key <word:secret>", Help: h("key", "Shared secret authenticating failover messages", "secret", "Shared secret")}
	FailoverLanEnableCmd    = &Decl{ID: "failover-lan-enable", Section: SecFailover, Modes: cfg, NoMin: 3, Syntax: "failover lan enable", Help: h("enable", "Enable LAN-based failover")}
	FailoverIPCmd           = &Decl{ID: "failover-ip", Section: SecFailover, Local: LANLocal, Modes: cfg, NoMin: 4, Syntax: "failover ip address <ifname:if_name> <ipv4:ip_address>", Help: h("ip", "Configure the standby unit's IP address", "ip_address", "Standby IP address")}
	FailoverInterfaceIPCmd  = &Decl{ID: "failover-interface-ip", Section: SecFailover, Local: LANLocal, Modes: cfg, NoMin: 4, Hidden: true, Syntax: "failover interface ip <ifname:if_name> <ipv4:ip_address> <mask:mask> standby <ipv4:standby_ip>", Help: h("interface", "Configure failover interface addresses", "standby", "Standby address")}
	FailoverLinkCmd         = &Decl{ID: "failover-link", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover link <ifname:if_name> [<hwid:hardware_id>]", Help: h("link", "Specify the stateful failover interface", "hardware_id", "Linux interface to name (ASA form)")}
	FailoverPollCmd         = &Decl{ID: "failover-poll", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover poll <int(3-15):seconds>", Help: h("poll", "Set the hello interval", "seconds", "Hello interval in seconds"), Errs: map[string]string{"seconds": "poll time must be 3-15 seconds"}}
	FailoverPolltimeCmd     = &Decl{ID: "failover-polltime", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover polltime [unit] [msec] <int(1-999):time> [holdtime [msec$hmsec] <int(1-999):hold>]",
		Help: h("polltime", "Configure failover poll and hold times", "unit", "Unit poll and hold times", "time", "Poll time (1-15 s, or msec 20-999)", "hold", "Hold time (1-45 s, or msec 60-999)")}
	FailoverPolltimeInterfaceCmd = &Decl{ID: "failover-polltime-interface", Section: SecFailover, Modes: cfg, NoMin: 3, Syntax: "failover polltime interface [msec] <int(1-999):iftime> [holdtime <int(5-75):ifhold>]",
		Help: h("interface", "Interface poll and hold times", "iftime", "Interface poll time (1-15 s, or msec 500-999)", "ifhold", "Interface hold time in seconds")}
	MonitorInterfaceCmd        = &Decl{ID: "monitor-interface", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "monitor-interface <ifname:if_name>", Help: h("monitor-interface", "Monitor an interface for failover")}
	FailoverInterfacePolicyCmd = &Decl{ID: "failover-interface-policy", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover interface-policy <pct(1-100):policy>", Help: h("interface-policy", "Failed interfaces that make a unit failed", "policy", "Number of interfaces, or percentage with %")}
	FailoverMacCmd             = &Decl{ID: "failover-mac", Section: SecFailover, Modes: cfg, NoMin: 4, Syntax: "failover mac address <ifname:if_name> <mac:active_mac> <mac:standby_mac>", Help: h("mac", "Specify the virtual MAC addresses", "active_mac", "Active MAC (H.H.H)", "standby_mac", "Standby MAC (H.H.H)")}
	FailoverTimeoutCmd         = &Decl{ID: "failover-timeout", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover timeout <hms:hh:mm:ss>", Help: h("timeout", "Reconnect timeout for connections not in the replicated state", "hh:mm:ss", "Timeout (0 = disabled)")}
	FailoverReplicateHTTPCmd   = &Decl{ID: "failover-replicate-http", Section: SecFailover, Modes: cfg, NoMin: 3, Syntax: "failover replicate http", Help: h("replicate", "Configure replication", "http", "Replicate HTTP connections")}
	FailoverPreemptCmd         = &Decl{ID: "failover-preempt", Section: SecFailover, Modes: cfg, NoMin: 2, Syntax: "failover preempt [delay <int(1-1200):seconds>]", Help: h("preempt", "Let the primary unit take back the active role", "delay", "Wait before preempting", "seconds", "Delay in seconds")}

	// ---- uplink failover (ASA route tracking) ----
	SLAMonitorCmd  = &Decl{ID: "sla-monitor", Section: SecSLA, Modes: cfg, NoMin: 3, Syntax: "sla monitor <int(1-2147483647):sla_id>", Help: h()}
	SLAScheduleCmd = &Decl{ID: "sla-schedule", Section: SecSLA, Modes: cfg, NoMin: 4, Syntax: "sla monitor schedule <int(1-2147483647):sla_id> [life (forever|<int(0-2147483647):life_seconds>)] [start-time (now|pending|after <hms:hh:mm:ss>)]",
		Help: h("schedule", "Schedule an SLA operation", "life", "Length of time to execute", "forever", "Run forever", "life_seconds", "Life in seconds", "start-time", "When to start", "now", "Start now", "pending", "Do not start", "after", "Start after a delay", "hh:mm:ss", "Delay")}
	SLATypeEchoCmd = &Decl{ID: "sla-type-echo", Section: SecSLA, Modes: []Mode{ModeSLA}, NoMin: 1, Syntax: "type echo protocol ipIcmpEcho <host:target> interface <ifname:if_name>",
		Help: h("type", "Type of entry", "echo", "Echo operation", "protocol", "Protocol", "ipIcmpEcho", "ICMP echo", "target", "Destination IP address or host name", "interface", "Source interface")}
	SLANumPacketsCmd = &Decl{ID: "sla-num-packets", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "num-packets <int(1-100):packets>", Help: h("num-packets", "Number of packets", "packets", "Number of packets per operation")}
	SLATimeoutCmd    = &Decl{ID: "sla-timeout", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "timeout <int(0-604800000):milliseconds>", Help: h("timeout", "Timeout of an operation", "milliseconds", "Timeout in milliseconds")}
	SLAThresholdCmd  = &Decl{ID: "sla-threshold", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "threshold <int(0-2147483647):milliseconds>", Help: h("threshold", "Operation threshold", "milliseconds", "Threshold in milliseconds")}
	SLAFrequencyCmd  = &Decl{ID: "sla-frequency", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "frequency [msec] <int(1-604800):interval>", Help: h("frequency", "Frequency of an operation", "interval", "Seconds (1-604800), or milliseconds 20-60000 after msec")}
	SLATosCmd        = &Decl{ID: "sla-tos", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "tos <int(0-255):tos>", Help: h("tos", "Type of service", "tos", "Type of service value")}
	SLADataSizeCmd   = &Decl{ID: "sla-data-size", Section: SecSLA, Modes: []Mode{ModeSLAEcho}, NoMin: 1, Syntax: "request-data-size <int(0-16384):bytes>", Help: h("request-data-size", "Request data size", "bytes", "Number of bytes in payload")}
	TrackRtrCmd      = &Decl{ID: "track-rtr", Section: SecTrack, Modes: cfg, NoMin: 2, Syntax: "track <int(1-500):track_id> rtr <int(1-2147483647):sla_id> reachability", Help: h("track", "Object tracking configuration", "rtr", "Track an SLA operation", "reachability", "Reachability")}
	TrackListCmd     = &Decl{ID: "track-list", Section: SecTrack, Modes: cfg, NoMin: 3, Syntax: "track <int(1-500):track_id> list boolean (or|and)", Help: h("track", "Object tracking configuration", "list", "Group of objects", "boolean", "Boolean combination", "or", "Up when any object is up", "and", "Up when all objects are up")}
	TrackDelayCmd    = &Decl{ID: "track-delay", Section: SecTrack, Modes: []Mode{ModeTrack}, NoMin: 1, Syntax: "delay [down <int(0-180):down>] [up <int(0-180):up>]", Help: h("delay", "Tracking delay", "down", "Delay down change notification", "up", "Delay up change notification", "down_s", "Seconds")}
	TrackObjectCmd   = &Decl{ID: "track-object", Section: SecTrack, Modes: []Mode{ModeTrack}, NoMin: 2, Syntax: "object <int(1-500):object>", Help: h("object", "Add an object to a list", "object", "Tracked object number")}
	RouteCmd         = &Decl{ID: "route", Section: SecRoute, Modes: cfg, NoMin: 5, Syntax: "route <ifname:if_name> <net:network> <mask:mask> <ipv4:gateway> [<int(1-255):distance>] [track <int(1-500):track_id>]",
		Help: h("route", "Configure a static route", "network", "Destination network", "gateway", "Gateway address", "distance", "Administrative distance", "track", "Install only while the tracked object is up")}
)

// Decls returns the product's declarations in declaration order.
func Decls() []*Decl {
	return []*Decl{
		EnableCmd, DisableCmd, ConfigureCmd, ExitCmd, QuitCmd, EndCmd, TerminalWidthCmd,
		TerminalLengthCmd, TerminalPagerCmd, ShowFailoverCmd, ShowMonitorInterfaceCmd, ShowConnCountCmd,
		ShowXlateCountCmd, ShowRunningCmd, WriteTerminalCmd, WriteMemoryCmd, WriteEraseCmd,
		WriteStandbyCmd, CopyRunStartCmd, ShowStartupCmd, ShowVersionCmd, ShowInterfaceCmd,
		ShowIPAddressCmd, MoreSystemRunningCmd, DirCmd, ShowMemoryCmd, ShowCurprivCmd, ShowHistoryCmd,
		ShowLoggingCmd, ClearLoggingCmd, ShowRouteCmd, ShowTrackCmd, ShowSLAConfigCmd, ShowSLAOperCmd,
		PingCmd, FailoverActiveCmd, FailoverResetCmd, FailoverReloadStandbyCmd, FailoverExecCmd,
		HostnameCmd, EnablePasswordCmd, InterfaceCmd, NameifCmd, IPAddressCmd, MTUCmd, PagerCmd,
		LoggingOnCmd, LoggingTimestampCmd, LoggingHostCmd, LoggingTrapCmd, LoggingBufferedCmd,
		LoggingConsoleCmd, NamesCmd, NameCmd, PromptCmd, IfNameifCmd, IfSecurityCmd, IfIPAddressCmd,
		IfShutdownCmd, FailoverCmd, FailoverLanUnitCmd, FailoverLanInterfaceCmd, FailoverLanKeyCmd,
		FailoverKeyCmd, FailoverLanEnableCmd, FailoverIPCmd, FailoverInterfaceIPCmd, FailoverLinkCmd,
		FailoverPollCmd, FailoverPolltimeCmd, FailoverPolltimeInterfaceCmd, MonitorInterfaceCmd,
		FailoverInterfacePolicyCmd, FailoverMacCmd, FailoverTimeoutCmd, FailoverReplicateHTTPCmd,
		FailoverPreemptCmd, SLAMonitorCmd, SLAScheduleCmd, SLATypeEchoCmd, SLANumPacketsCmd,
		SLATimeoutCmd, SLAThresholdCmd, SLAFrequencyCmd, SLATosCmd, SLADataSizeCmd, TrackRtrCmd,
		TrackListCmd, TrackDelayCmd, TrackObjectCmd, RouteCmd,
	}
}

// seedUsage is PIX 6.3's own answer to "failover ?", kept verbatim; the
// commands this product adds follow, generated from their declarations.
const seedUsage = `usage: [no] failover [active]
        failover ip address <if_name> <ip_address>
        failover timeout <hh:mm:ss>
        failover reset
        failover link <if_name>`

var seedCovered = map[*Decl]bool{FailoverCmd: true, FailoverActiveCmd: true, FailoverIPCmd: true, FailoverTimeoutCmd: true, FailoverResetCmd: true, FailoverLinkCmd: true}

// FailoverUsage is the text printed for "failover ?".
func FailoverUsage(decls []*Decl) string {
	lines := []string{seedUsage}
	for _, d := range decls {
		if !strings.HasPrefix(d.Syntax, "failover ") || seedCovered[d] || d.Hidden {
			continue
		}
		lines = append(lines, "        "+UsageSyntax(d.Syntax))
	}
	return strings.Join(lines, "\n")
}

// UsageSyntax turns a declaration syntax into the PIX usage notation:
// <type:name> becomes <name>, keyword$name becomes keyword.
func UsageSyntax(syntax string) string {
	var out []string
	for _, t := range scanSpec(syntax) {
		switch {
		case strings.HasPrefix(t, "<"):
			_, name, _ := strings.Cut(strings.Trim(t, "<>"), ":")
			out = append(out, "<"+name+">")
		default:
			w, _, _ := strings.Cut(t, "$")
			out = append(out, w)
		}
	}
	s := strings.Join(out, " ")
	for _, r := range [][2]string{{"[ ", "["}, {" ]", "]"}, {"( ", ""}, {" )", ""}, {" | ", "|"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

var (
	productOnce sync.Once
	product     *Grammar
	productErr  error
)

// Product returns the compiled command set (compiled once; declarations
// are immutable after compilation).
func Product() (*Grammar, error) {
	productOnce.Do(func() {
		d := Decls()
		product, productErr = New(d, []Usage{{Mode: ModeConfig, Words: []string{"failover"}, Text: FailoverUsage(d)}})
	})
	return product, productErr
}
