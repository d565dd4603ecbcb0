package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// Kinds of Event.
const (
	EventStart   = "start"   // a job started
	EventDone    = "done"    // a job finished; its result is stored (or, on a worker, published)
	EventFailed  = "failed"  // a job failed; the error is in Event.Err
	EventSkip    = "skip"    // a worker found the job's result already published and did not run it
	EventRequeue = "requeue" // a worker was stopped mid-job and handed the job back
	EventInfo    = "info"    // a message for the log, in Event.Err
)

// Event reports progress. Done, Failed and Total count the jobs of this run
// (those not stored when it began) after the event.
type Event struct {
	Kind    string
	Hash    string
	Job     *Job // nil when unknown
	Worker  string
	Attempt int // delivery count of the job message (queue workers)
	Runtime time.Duration
	Err     error
	Done    int
	Failed  int
	Total   int
}

// emitter serializes calls of an event callback.
type emitter struct {
	mu sync.Mutex
	fn func(Event)
}

func (e *emitter) emit(ev Event) {
	if e == nil || e.fn == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fn(ev)
}

// LocalOptions configure RunLocal.
type LocalOptions struct {
	// Workers is the number of jobs run at once (default: the number of CPUs).
	Workers int
	// OnEvent, when set, receives progress; calls are serialized.
	OnEvent func(Event)
}

// Pending returns the jobs whose results are not stored yet.
func Pending(s Store, jobs []Job) []Job {
	var out []Job
	for i := range jobs {
		if !s.Done(jobs[i].Hash()) {
			out = append(out, jobs[i])
		}
	}
	return out
}

// RunLocal runs every job whose result is not yet in the store, Workers at a
// time, storing each result as it finishes. When ctx is cancelled, running
// jobs stop and are not stored, and RunLocal returns an error wrapping
// ErrInterrupted; a later call resumes. A job that fails is recorded (and
// retried by the next call); RunLocal then goes on with the others and
// returns nil.
func RunLocal(ctx context.Context, s Store, jobs []Job, o LocalOptions) error {
	if err := s.Init(); err != nil {
		return err
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	em := &emitter{fn: o.OnEvent}
	todo := Pending(s, jobs)
	var (
		mu           sync.Mutex
		done, failed int
		firstErr     error
	)
	next := make(chan *Job)
	var wg sync.WaitGroup
	for w := 0; w < min(o.Workers, max(len(todo), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				h := j.Hash()
				em.emit(Event{Kind: EventStart, Hash: h, Job: j, Total: len(todo)})
				t0 := time.Now()
				err := runAndStore(ctx, s, j, h)
				if errors.Is(err, ErrInterrupted) {
					continue
				}
				mu.Lock()
				ev := Event{Hash: h, Job: j, Runtime: time.Since(t0), Total: len(todo), Err: err}
				if err != nil {
					if ferr := s.recordFailure(j, h, oneLine(err.Error()), ""); ferr != nil && firstErr == nil {
						firstErr = ferr
					}
					failed++
					ev.Kind = EventFailed
				} else {
					done++
					ev.Kind = EventDone
				}
				ev.Done, ev.Failed = done, failed
				mu.Unlock()
				em.emit(ev)
			}
		}()
	}
feed:
	for i := range todo {
		select {
		case next <- &todo[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %d of %d jobs of this run finished", ErrInterrupted, done+failed, len(todo))
	}
	return nil
}

// runAndStore runs a job in a staging folder and commits it to the store.
func runAndStore(ctx context.Context, s Store, j *Job, h string) error {
	staged, err := s.stage(h)
	if err != nil {
		return err
	}
	if _, err := j.Run(ctx, staged); err != nil {
		_ = os.RemoveAll(staged)
		return err
	}
	_, err = s.commit(h, staged)
	return err
}
