package engine

import (
	"log/slog"

	"failover/engine/event"
)

// What the engine's external tests need of its insides: they are in
// package engine_test because they drive the engine through engine/cli
// sessions, and engine/cli imports the engine.

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Discard is a logger that drops everything.
var Discard = discard

var (
	ConfigText   = configText
	FormatUptime = formatUptime
	// SyncOverride replaces fsync (a disk that does not answer).
	SyncOverride = &syncOverride
	// FileWait, SubscriberTimeout and SubscriberQueue are the limits the
	// tests shorten or read.
	FileWait          = &fileWait
	SubscriberTimeout = &subscriberTimeout
	SubscriberQueue   = &subscriberQueue
)

const MaxRejectedLogged = maxRejectedLogged

// FilesIdle is closed when the file worker has drained and ended.
func (e *Engine) FilesIdle() <-chan struct{} { return e.files.idle }

// Bus is the engine's event bus.
func (e *Engine) Bus() *event.Bus { return e.obs.bus }
