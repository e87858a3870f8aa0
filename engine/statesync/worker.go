package statesync

import (
	"context"
	"sync"

	"failover/engine/conntrack"
)

// job is one piece of kernel work, done in order by the worker.
type job struct {
	ops   []conntrack.Op
	flush func(*conntrack.Entry) bool // delete every entry it accepts
	dump  bool
	run   func() error // other kernel work (the firewall guard)
	quit  bool
	done  func(errs []error, dump []conntrack.Entry, err error)
}

// worker does the kernel work of the replicator off the engine loop, one
// job at a time and in order, so that a flush queued before replicas are
// applied happens before them.
type worker struct {
	tb   conntrack.Table
	post func(func())

	mu      sync.Mutex
	q       []job
	records uint64 // records waiting, for the Recv Q line
	jobs    int    // jobs pushed and not finished
	wake    chan struct{}
	done    chan struct{}
}

func newWorker(tb conntrack.Table, post func(func())) *worker {
	w := &worker{tb: tb, post: post, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *worker) push(j job) uint64 {
	w.mu.Lock()
	w.q = append(w.q, j)
	w.records += uint64(len(j.ops))
	w.jobs++
	n := w.records
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return n
}

// pending is the number of records not yet written to the kernel.
func (w *worker) pending() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.records
}

// idle says whether every job pushed is done (its result posted).
func (w *worker) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.jobs == 0
}

// stop ends the worker once the jobs pushed before are done; the channel
// closes then.
func (w *worker) stop() <-chan struct{} {
	w.push(job{quit: true})
	return w.done
}

func (w *worker) run() {
	for {
		select {
		case <-w.done:
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.q) == 0 {
				w.mu.Unlock()
				break
			}
			j := w.q[0]
			w.q[0] = job{}
			w.q = w.q[1:]
			w.mu.Unlock()
			if j.quit {
				close(w.done)
				return
			}
			w.do(j)
			w.mu.Lock()
			w.records -= uint64(len(j.ops))
			w.jobs--
			w.mu.Unlock()
		}
	}
}

func (w *worker) do(j job) {
	var errs []error
	var dump []conntrack.Entry
	var err error
	switch {
	case j.run != nil:
		err = j.run()
	case j.flush != nil:
		dump, err = w.tb.Dump(context.Background())
		var ops []conntrack.Op
		for i := range dump {
			if j.flush(&dump[i]) {
				ops = append(ops, conntrack.Op{Kind: conntrack.OpDelete, Entry: dump[i]})
			}
		}
		if len(ops) > 0 {
			errs = w.tb.Apply(ops)
		}
		dump = nil
	case j.dump:
		dump, err = w.tb.Dump(context.Background())
	default:
		errs = w.tb.Apply(j.ops)
	}
	if j.done != nil {
		w.post(func() { j.done(errs, dump, err) })
	}
}
