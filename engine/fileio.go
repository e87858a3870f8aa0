package engine

import (
	"errors"
	"time"
)

// fileIO runs the engine's file reads and writes in a goroutine of their
// own, one at a time and in the order they were handed over, so a slow
// disk, an fsync or a FIFO at a path never holds the event loop: hellos,
// timers, sessions and SIGTERM go on. The loop hands a job over without
// waiting; the job posts its result back to the loop or to the session
// that waits for it.
type fileIO struct {
	jobs chan func()
	idle chan struct{} // closed when the worker has drained and ended
}

// fileQueue bounds the jobs waiting behind a stuck disk; past it a write
// is refused at once instead of queued without limit.
const fileQueue = 32

var errFilesBusy = errors.New("failed to queue the file operation: the disk is busy with earlier ones")

func startFileIO() *fileIO {
	w := &fileIO{jobs: make(chan func(), fileQueue), idle: make(chan struct{})}
	go func() {
		defer close(w.idle)
		for job := range w.jobs {
			job()
		}
	}()
	return w
}

// submit queues job without ever blocking (loop only).
func (w *fileIO) submit(job func()) error {
	select {
	case w.jobs <- job:
		return nil
	default:
		return errFilesBusy
	}
}

// stop lets the queued jobs finish (a `write memory` just before SIGTERM
// still lands), waiting at most wait for a stuck disk (loop only, once).
func (w *fileIO) stop(wait time.Duration) bool {
	close(w.jobs)
	select {
	case <-w.idle:
		return true
	case <-time.After(wait):
		return false
	}
}
