"""Drives fosh over SSH with netmiko's stock cisco_asa driver, unmodified.

Run by TestNetmikoASA (shell/automation_test.go), which passes the box in
the FOSH_TEST environment variable (JSON) and checks every result printed
here (JSON on stdout) against the device itself.
"""
import json
import os

from netmiko import ConnectHandler

box = json.loads(os.environ["FOSH_TEST"])
device = {
    "device_type": "cisco_asa",
    "host": "127.0.0.1",
    "port": box["port"],
    "username": box["user"],
    "use_keys": True,
    "key_file": box["key"],
    "allow_agent": False,
    "ssh_strict": False,
    "system_host_keys": False,
    "secret": box["secret"],
    "timeout": 20,
}
r = {}
conn = ConnectHandler(**device)  # logs in, enable() with the secret, terminal pager 0, terminal width 511
r["prompt"] = conn.find_prompt()
r["enable_mode"] = conn.check_enable_mode()
r["show_failover"] = conn.send_command("show failover")
r["show_version"] = conn.send_command("show version")
r["include_failover"] = conn.send_command("show running-config | include failover")
r["config_set"] = conn.send_config_set(box["config_lines"])
r["config_mode_after"] = conn.check_config_mode()
r["save"] = conn.save_config()
r["invalid"] = conn.send_command("show bogus")
conn.exit_enable_mode()
r["enable_mode_after_exit"] = conn.check_enable_mode()
r["prompt_after_exit"] = conn.find_prompt()
r["curpriv_after_exit"] = conn.send_command("show curpriv")
conn.disconnect()
print(json.dumps(r))
