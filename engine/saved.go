package engine

import (
	"crypto/sha256"
	"fmt"

	"failover/engine/config"
)

// configText is the whole configuration as show running-config, write
// terminal and the startup-config file print it: ASA's ": Saved" header,
// the lines, a Cryptochecksum line and ": end". The checksum is taken over
// the configuration with its secrets, so it changes exactly when the
// configuration does (the failover key included, although it is masked
// on screen) and the running and the saved configuration have the same
// checksum exactly when they are the same: automation compares the two
// to decide whether to save.
func configText(c *config.Config, secrets bool) string {
	return ": Saved\n:\n" + config.Text(config.Render(c, config.RenderOpts{Secrets: secrets})) +
		"Cryptochecksum:" + checksum(c) + "\n: end\n"
}

// checksum is 128 bits of SHA-256 over the configuration with secrets, in
// hex as ASA prints its MD5 checksum.
func checksum(c *config.Config) string {
	sum := sha256.Sum256([]byte(config.Text(config.Render(c, config.RenderOpts{Secrets: true}))))
	return fmt.Sprintf("%x", sum[:16])
}
