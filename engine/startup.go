package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// maxRejectedLogged bounds the log of rejected startup-config lines: a
// file of binary garbage gives the first ones and a count, not megabytes.
const maxRejectedLogged = 20

func logRejected(log *slog.Logger, errs []error) {
	for i, err := range errs {
		if i == maxRejectedLogged {
			log.Warn("more startup-config lines rejected, not logged one by one", "count", len(errs)-i)
			return
		}
		log.Warn("startup-config line rejected", "err", err)
	}
}

// cleanTemps removes the temp files an interrupted save left beside the
// startup-config and the state file (at start, before any save of ours).
func (e *Engine) cleanTemps() {
	for _, p := range []string{e.path, e.statePath} {
		if p == "" {
			continue
		}
		err := e.files.submit(func() {
			n, err := removeStaleTemps(p)
			if err != nil {
				e.log.Warn("failed to remove stale temp files", "path", p, "err", err)
			}
			if n > 0 {
				e.log.Info("removed stale temp files of an interrupted save", "path", p, "count", n)
			}
		})
		if err != nil {
			e.log.Warn("failed to remove stale temp files", "path", p, "err", err)
		}
	}
}

// WriteMemory saves the running configuration (the standby's half of
// `write memory` on the active). The file is written off the loop; a
// failure is logged.
func (e *Engine) WriteMemory() error {
	return e.saveStartup(func(err error) {
		if err != nil {
			e.log.Error("failed to write memory for the mate", "err", err)
		}
	})
}

// saveStartup renders the running configuration and saves it atomically
// off the loop (loop only). done gets the result in the file goroutine.
func (e *Engine) saveStartup(done func(error)) error {
	if e.path == "" {
		return fmt.Errorf("failed to save: no startup-config path (--config)")
	}
	text := configText(e.cfg, true)
	path := e.path
	return e.files.submit(func() { done(writeAtomic(path, text)) })
}

// eraseStartup empties the startup-config and removes stale temp files
// off the loop (loop only).
func (e *Engine) eraseStartup(done func(error)) error {
	if e.path == "" {
		return fmt.Errorf("failed to erase: no startup-config path (--config)")
	}
	path := e.path
	return e.files.submit(func() {
		err := writeAtomic(path, "")
		if err == nil {
			_, err = removeStaleTemps(path)
		}
		done(err)
	})
}

// readStartup reads the startup-config off the loop (loop only); done
// gets its text, "" when there is none.
func (e *Engine) readStartup(done func(string, error)) error {
	path := e.path
	if path == "" {
		done("", nil)
		return nil
	}
	return e.files.submit(func() {
		b, err := readRegular(path)
		if errors.Is(err, os.ErrNotExist) {
			done("", nil)
			return
		}
		done(string(b), err)
	})
}
