package sweep

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the distributed mode.
const (
	// DefaultQueue names the JetStream objects of a sweep queue.
	DefaultQueue = "accelopt"
	// DefaultAckWait is how long the server waits for a sign of life from a
	// worker before it hands the job to another one. Workers send one every
	// third of it while a job runs, so it bounds the delay after a worker
	// dies, not the length of a job.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxAttempts is how often a job is delivered before a worker
	// reports it failed instead of running it again (a job that kills every
	// worker that runs it).
	DefaultMaxAttempts = 5
	// DefaultURL is the NATS server workers connect to by default.
	DefaultURL = "nats://127.0.0.1:4222"
)

// queueNames are the JetStream objects of a queue named q: a work-queue stream
// q_jobs with one subject q.jobs.<hash> per job, its durable pull consumer
// q_workers, and a key-value bucket q_results holding each job's result under
// its hash.
type queueNames struct {
	stream, consumer, bucket, subjects string
}

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func namesOf(q string) (queueNames, error) {
	if q == "" {
		q = DefaultQueue
	}
	if !queueNameRE.MatchString(q) {
		return queueNames{}, fmt.Errorf("queue name %q: use 1 to 64 letters, digits, '-' or '_'", q)
	}
	return queueNames{stream: q + "_jobs", consumer: q + "_workers", bucket: q + "_results", subjects: q + ".jobs"}, nil
}

func (n queueNames) subject(hash string) string { return n.subjects + "." + hash }

// openQueue finds or creates the queue's stream, consumer and bucket; existing
// ones are used as they are, except that when ackWait > 0 the consumer's ack
// wait is set to it (a new consumer otherwise gets DefaultAckWait).
func openQueue(ctx context.Context, js jetstream.JetStream, n queueNames, ackWait time.Duration) (jetstream.Consumer, jetstream.KeyValue, error) {
	if _, err := js.Stream(ctx, n.stream); err != nil {
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, nil, fmt.Errorf("stream %s: %w", n.stream, err)
		}
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        n.stream,
			Description: "accelopt sweep jobs, one message per job hash",
			Subjects:    []string{n.subjects + ".*"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			// A job still queued or running is not queued twice: the
			// stream refuses a second message on its subject. (No
			// Nats-Msg-Id: a failed job must be queueable again at once.)
			Discard:              jetstream.DiscardNew,
			DiscardNewPerSubject: true,
			MaxMsgsPerSubject:    1,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil, nil, fmt.Errorf("creating stream %s: %w", n.stream, err)
		}
	}
	cons, err := js.Consumer(ctx, n.stream, n.consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cfg := jetstream.ConsumerConfig{
			Durable:       n.consumer,
			Description:   "accelopt sweep workers",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       DefaultAckWait,
			MaxDeliver:    -1,
			MaxAckPending: -1,
		}
		if ackWait > 0 {
			cfg.AckWait = ackWait
		}
		cons, err = js.CreateConsumer(ctx, n.stream, cfg)
		if errors.Is(err, jetstream.ErrConsumerExists) {
			cons, err = js.Consumer(ctx, n.stream, n.consumer)
		}
	}
	if err == nil && ackWait > 0 && cons.CachedInfo().Config.AckWait != ackWait {
		cfg := cons.CachedInfo().Config
		cfg.AckWait = ackWait
		cons, err = js.UpdateConsumer(ctx, n.stream, cfg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("consumer %s: %w", n.consumer, err)
	}
	kv, err := js.KeyValue(ctx, n.bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: n.bucket,
			Description: "accelopt sweep results by job hash", History: 1, Storage: jetstream.FileStorage})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, n.bucket)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bucket %s: %w", n.bucket, err)
	}
	return cons, kv, nil
}

// resultMsg is a job's result as a worker publishes it: the files of its
// folder, or an error.
type resultMsg struct {
	Version  int               `json:"version"`
	Hash     string            `json:"hash"`
	Worker   string            `json:"worker,omitempty"`
	RuntimeS float64           `json:"runtime_s"`
	Error    string            `json:"error,omitempty"`
	Files    map[string][]byte `json:"files,omitempty"`
}

// encodeResult returns the gzip-compressed JSON form of a result.
func encodeResult(m *resultMsg) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(m); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxResultBytes bounds a decompressed result (a 2000-layer network's is
// about 10 MB).
const maxResultBytes = 64 << 20

// decodeResult reads a result message. It refuses one that decompresses to
// more than maxResultBytes, is not one JSON document of a result, or is of
// another format version.
func decodeResult(data []byte) (*resultMsg, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxResultBytes+1))
	if err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	if len(raw) > maxResultBytes {
		return nil, fmt.Errorf("result: more than %d bytes decompressed", maxResultBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m resultMsg
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("result: %s", oneLine(err.Error()))
	}
	if dec.More() {
		return nil, errors.New("result: data after the result")
	}
	if m.Version != JobVersion {
		return nil, fmt.Errorf("result format version %d, this accelopt reads version %d", m.Version, JobVersion)
	}
	return &m, nil
}

// CoordinatorOptions configure Coordinate.
type CoordinatorOptions struct {
	// Queue names the JetStream objects (default DefaultQueue).
	Queue string
	// AckWait is set on the queue's consumer (default DefaultAckWait).
	AckWait time.Duration
	// Workers, when positive, runs that many jobs at a time in this process
	// too, through the queue like any other worker.
	Workers int
	// Poll is how often the coordinator also looks up the results of the
	// jobs still outstanding and queues again any that went missing (default
	// 30 s); results normally arrive through a watch at once.
	Poll time.Duration
	// OnEvent, when set, receives progress; calls are serialized. The
	// in-process workers' messages and failures come as EventInfo.
	OnEvent func(Event)
}

// Coordinate runs a sweep through a NATS JetStream work queue: it queues every
// job whose result is not yet in the store, and stores each result that
// workers publish, until every job is done or failed. Jobs are queued once
// (the stream keeps one message per job hash), results are kept in a
// key-value bucket under the job hash, so a coordinator that is stopped and
// started again collects what was finished meanwhile without running it
// again. A job that failed in an earlier run is queued again. When ctx is
// cancelled, Coordinate returns an error wrapping ErrInterrupted; queued jobs
// stay queued and workers go on with them.
func Coordinate(ctx context.Context, nc *nats.Conn, s Store, jobs []Job, o CoordinatorOptions) error {
	if err := s.Init(); err != nil {
		return err
	}
	n, err := namesOf(o.Queue)
	if err != nil {
		return err
	}
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	em := &emitter{fn: o.OnEvent}
	todo := Pending(s, jobs)
	if len(todo) == 0 {
		return nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	setupCtx, cancelSetup := context.WithTimeout(ctx, 30*time.Second)
	_, kv, err := openQueue(setupCtx, js, n, o.AckWait)
	cancelSetup()
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("nats: watching bucket %s: %w", n.bucket, err)
	}
	defer func() { _ = w.Stop() }()

	if o.Workers > 0 {
		wctx, stopWorkers := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The in-process workers' progress shows in the results
			// collected; only their messages are passed on.
			err := Work(wctx, nc, WorkerOptions{Queue: o.Queue, Concurrency: o.Workers,
				OnEvent: func(ev Event) {
					switch ev.Kind {
					case EventInfo:
						em.emit(Event{Kind: EventInfo, Worker: ev.Worker, Err: fmt.Errorf("in-process worker: %w", ev.Err)})
					case EventFailed:
						em.emit(Event{Kind: EventInfo, Hash: ev.Hash, Job: ev.Job, Worker: ev.Worker,
							Err: fmt.Errorf("in-process worker: job %s failed: %w", ev.Hash, ev.Err)})
					}
				}})
			if err != nil && wctx.Err() == nil {
				em.emit(Event{Kind: EventInfo, Err: fmt.Errorf("in-process worker: %w", err)})
			}
		}()
		defer wg.Wait()
		defer stopWorkers()
	}

	byHash := make(map[string]*Job, len(todo))
	for i := range todo {
		byHash[todo[i].Hash()] = &todo[i]
	}
	resolved := map[string]bool{}
	retry := map[string]bool{} // failed in an earlier run: queue again
	done, failed := 0, 0
	// collect stores one result. A failure found among the values stored
	// before this run (initial) is not final: the job is queued again. An
	// error writing the store is returned (and stops the coordinator).
	collect := func(h string, data []byte, initial bool) error {
		j := byHash[h]
		if j == nil || resolved[h] {
			return nil
		}
		m, err := decodeResult(data)
		if err == nil && m.Hash != h {
			err = fmt.Errorf("result for job %s is stored under %s", m.Hash, h)
		}
		if err == nil && m.Error != "" {
			err = errors.New(m.Error)
		}
		if err == nil {
			if verr := checkResultFiles(j, h, m.Files); verr != nil {
				err = fmt.Errorf("result rejected (from worker %q): %w", m.Worker, verr)
			}
		}
		if err != nil && initial {
			retry[h] = true // an old failure: try again
			return nil
		}
		ev := Event{Hash: h, Job: j}
		if m != nil {
			ev.Worker, ev.Runtime = m.Worker, time.Duration(m.RuntimeS*float64(time.Second))
		}
		if err == nil {
			if _, serr := s.putFiles(h, m.Files); serr != nil {
				return fmt.Errorf("storing the result of job %s: %w", h, serr)
			}
		}
		resolved[h] = true
		if err != nil {
			failed++
			ev.Kind, ev.Err = EventFailed, err
			if serr := s.recordFailure(j, h, oneLine(err.Error()), ev.Worker); serr != nil {
				return serr
			}
		} else {
			done++
			ev.Kind = EventDone
		}
		ev.Done, ev.Failed, ev.Total = done, failed, len(todo)
		em.emit(ev)
		return nil
	}
	// enqueue queues every job that is neither resolved nor known to be queued.
	enqueue := func() (int, error) {
		queued := 0
		for i := range todo {
			j := &todo[i]
			h := j.Hash()
			if resolved[h] {
				continue
			}
			if retry[h] {
				if err := kv.Delete(ctx, h); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
					return queued, fmt.Errorf("nats: clearing old failure of job %s: %w", h, err)
				}
				delete(retry, h)
			}
			data, err := json.Marshal(j)
			if err != nil {
				return queued, err
			}
			_, err = js.Publish(ctx, n.subject(h), data)
			if err != nil && !isAlreadyQueued(err) {
				return queued, fmt.Errorf("nats: queueing job %s: %w", h, err)
			}
			if err == nil {
				queued++
			}
		}
		return queued, nil
	}
	// poll looks up results of unresolved jobs directly, in case the watch
	// missed one, and queues again any job that is neither done nor queued.
	// It returns errors of the store (fatal) apart from those of the server
	// (logged; the next poll tries again).
	poll := func() (fatal, transient error) {
		for h := range byHash {
			if resolved[h] {
				continue
			}
			e, err := kv.Get(ctx, h)
			if err == nil {
				if err := collect(h, e.Value(), false); err != nil {
					return err, nil
				}
			} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
				return nil, err
			}
		}
		_, err := enqueue()
		return nil, err
	}

	ticker := time.NewTicker(o.Poll)
	defer ticker.Stop()
	// A connection closed for good (credentials refused on reconnection)
	// ends the run; the watch would just stay silent.
	closedCheck := time.NewTicker(time.Second)
	defer closedCheck.Stop()
	started := false
	for len(resolved) < len(todo) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d jobs of this run collected; queued jobs stay queued", ErrInterrupted, done+failed, len(todo))
		case e, ok := <-w.Updates():
			if !ok {
				if nc.IsClosed() {
					return closedError(nc)
				}
				return errors.New("nats: the bucket watch ended")
			}
			if e == nil { // the end of the values already stored
				started = true
				q, err := enqueue()
				if err != nil {
					return err
				}
				em.emit(Event{Kind: EventInfo, Err: fmt.Errorf("queued %d jobs on %s (%d already queued, %d already finished)",
					q, n.stream, len(todo)-len(resolved)-q, len(resolved)), Done: done, Failed: failed, Total: len(todo)})
				continue
			}
			if e.Operation() == jetstream.KeyValuePut {
				if err := collect(e.Key(), e.Value(), !started); err != nil {
					return err
				}
			}
		case <-closedCheck.C:
			if nc.IsClosed() {
				return closedError(nc)
			}
		case <-ticker.C:
			if started {
				fatal, err := poll()
				if fatal != nil {
					return fatal
				}
				if err != nil && ctx.Err() == nil {
					em.emit(Event{Kind: EventInfo, Err: fmt.Errorf("polling results: %w", err)})
				}
			}
		}
	}
	return nil
}

// closedError describes a connection closed for good (Connect's connections
// close when the server refuses their credentials or certificate on
// reconnection).
func closedError(nc *nats.Conn) error {
	if err := nc.LastError(); err != nil {
		return fmt.Errorf("nats: connection closed: %s", oneLine(err.Error()))
	}
	return errors.New("nats: connection closed")
}

// hashRE matches a job hash (Job.Hash).
var hashRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// isAlreadyQueued reports whether a publish was refused because the job's
// subject already holds a message (the job is queued or running).
func isAlreadyQueued(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum messages per subject exceeded") {
		return true
	}
	return strings.Contains(err.Error(), "maximum messages per subject exceeded")
}

// WorkerOptions configure Work.
type WorkerOptions struct {
	// Queue names the JetStream objects (default DefaultQueue).
	Queue string
	// Concurrency is the number of jobs run at once (default: the number of
	// CPUs).
	Concurrency int
	// ID names this worker in results and events (default host:pid).
	ID string
	// IdleExit, when positive, stops the worker once it has found nothing to
	// do for that long.
	IdleExit time.Duration
	// MaxAttempts bounds the deliveries of one job (default
	// DefaultMaxAttempts); past it the job is reported failed.
	MaxAttempts int
	// Limits bound the jobs this worker runs (zero fields: DefaultLimits).
	Limits Limits
	// OnEvent, when set, receives progress; calls are serialized.
	OnEvent func(Event)
}

// Work pulls jobs from the queue, runs them and publishes their results, until
// ctx is cancelled (then a running job is handed back to the queue) or, with
// IdleExit, the queue stays empty. Each job is acknowledged only after its
// result is published, and the worker signals progress to the server while a
// job runs, so a job whose worker dies is delivered again after the
// consumer's ack wait. Each job is checked before it runs (Job.Validate with
// o.Limits, and its hash against its subject); one that fails the checks is
// reported failed with the reason. It returns nil when stopped by ctx or
// IdleExit, and an error when the connection is closed for good.
func Work(ctx context.Context, nc *nats.Conn, o WorkerOptions) error {
	n, err := namesOf(o.Queue)
	if err != nil {
		return err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.ID == "" {
		host, _ := os.Hostname()
		o.ID = host + ":" + strconv.Itoa(os.Getpid())
	}
	em := &emitter{fn: o.OnEvent}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	var cons jetstream.Consumer
	var kv jetstream.KeyValue
	for wait := time.Second; ; wait = min(2*wait, 10*time.Second) {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, kv, err = openQueue(sctx, js, n, 0)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if nc.IsClosed() {
			return closedError(nc)
		}
		em.emit(Event{Kind: EventInfo, Worker: o.ID, Err: fmt.Errorf("waiting for the queue: %w", err)})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	o.Limits = o.Limits.orDefault()
	wk := &worker{o: o, n: n, cons: cons, kv: kv, nc: nc, em: em, lastBusy: time.Now()}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i := 0; i < o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk.loop(wctx, stop)
		}()
	}
	wg.Wait()
	if nc.IsClosed() && ctx.Err() == nil {
		return closedError(nc)
	}
	return nil
}

// worker is the state shared by a worker's job slots.
type worker struct {
	o    WorkerOptions
	n    queueNames
	cons jetstream.Consumer
	kv   jetstream.KeyValue
	nc   *nats.Conn
	em   *emitter

	mu       sync.Mutex
	busy     int
	lastBusy time.Time
}

// loop runs one job slot.
func (w *worker) loop(ctx context.Context, stop func()) {
	for ctx.Err() == nil {
		wait := 5 * time.Second
		if w.o.IdleExit > 0 {
			wait = min(wait, max(w.o.IdleExit/2, 500*time.Millisecond))
		}
		fctx, cancel := context.WithTimeout(ctx, wait)
		msg, err := w.cons.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if w.nc.IsClosed() {
				stop()
				return
			}
			if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
				w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: fmt.Errorf("fetching a job: %w", err)})
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			if w.idle() {
				stop()
				return
			}
			continue
		}
		w.setBusy(+1)
		w.handle(ctx, msg)
		w.setBusy(-1)
	}
}

func (w *worker) setBusy(d int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busy += d
	w.lastBusy = time.Now()
}

// idle reports whether the worker has had nothing to do for IdleExit.
func (w *worker) idle() bool {
	if w.o.IdleExit <= 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.busy == 0 && time.Since(w.lastBusy) >= w.o.IdleExit
}

// handle runs one job message to its end: result published and acked, handed
// back (interrupted), or left for redelivery (result not published).
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	subj := msg.Subject()
	h := subj[strings.LastIndexByte(subj, '.')+1:]
	attempt := 0
	if meta, err := msg.Metadata(); err == nil {
		attempt = int(meta.NumDelivered)
	}
	ev := Event{Hash: h, Worker: w.o.ID, Attempt: attempt}
	if !hashRE.MatchString(h) {
		// Not a job's subject: there is no key to report it under.
		_ = msg.Term()
		ev.Kind, ev.Err = EventFailed, fmt.Errorf("message on %s is not a job (its subject does not end in a job hash); dropped", oneLine(subj))
		w.em.emit(ev)
		return
	}
	j, err := decodeJob(msg.Data(), w.o.Limits)
	if err == nil && j.Hash() != h {
		err = fmt.Errorf("job hash %s does not match its subject %s (coordinator and worker run different accelopt versions?)", j.Hash(), subj)
	}
	if j != nil && err == nil {
		ev.Job = j
	}
	if err != nil {
		w.finish(ctx, msg, ev, &resultMsg{Version: JobVersion, Hash: h, Worker: w.o.ID,
			Error: "job refused by the worker: " + oneLine(err.Error())})
		return
	}
	if e, err := w.kv.Get(ctx, h); err == nil {
		if m, err := decodeResult(e.Value()); err == nil && m.Error == "" && m.Hash == h && checkResultFiles(j, h, m.Files) == nil {
			_ = msg.Ack()
			ev.Kind = EventSkip
			w.em.emit(ev)
			return
		}
	}
	if attempt > w.o.MaxAttempts {
		w.finish(ctx, msg, ev, &resultMsg{Version: JobVersion, Hash: h, Worker: w.o.ID,
			Error: fmt.Sprintf("delivered %d times without a result (does it crash or outlive its workers?)", attempt)})
		return
	}
	ev.Kind = EventStart
	w.em.emit(ev)

	// Keep the job ours while it runs and its result is published.
	hbCtx, stopHB := context.WithCancel(context.Background())
	defer stopHB()
	go func() {
		period := DefaultAckWait / 3
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if info, err := w.cons.Info(ictx); err == nil && info.Config.AckWait > 0 {
			period = info.Config.AckWait / 3
		}
		cancel()
		t := time.NewTicker(max(period, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()

	t0 := time.Now()
	dir, err := os.MkdirTemp("", "accelopt-job-"+h+"-")
	if err != nil {
		w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: err})
		_ = msg.Nak()
		return
	}
	defer os.RemoveAll(dir)
	jctx, cancelJob := ctx, context.CancelFunc(func() {})
	if w.o.Limits.JobTimeout > 0 {
		jctx, cancelJob = context.WithTimeout(ctx, w.o.Limits.JobTimeout)
	}
	_, err = j.Run(jctx, dir)
	cancelJob()
	ev.Runtime = time.Since(t0)
	if errors.Is(err, ErrInterrupted) && ctx.Err() == nil && w.o.Limits.JobTimeout > 0 {
		err = fmt.Errorf("stopped after %s: longer than this worker's job time limit", w.o.Limits.JobTimeout)
	}
	if errors.Is(err, ErrInterrupted) {
		_ = msg.Nak()
		ev.Kind = EventRequeue
		w.em.emit(ev)
		return
	}
	res := &resultMsg{Version: JobVersion, Hash: h, Worker: w.o.ID, RuntimeS: ev.Runtime.Seconds()}
	if err != nil {
		res.Error = oneLine(err.Error())
	} else if res.Files, err = readFiles(dir); err != nil {
		res.Error = oneLine(err.Error())
	}
	w.finish(ctx, msg, ev, res)
}

// finish publishes a result, then acknowledges the job. While the server is
// unreachable it retries until ctx is cancelled (and once more after); a job
// whose result could not be published is not acknowledged, so it is
// delivered again.
func (w *worker) finish(ctx context.Context, msg jetstream.Msg, ev Event, res *resultMsg) {
	data, err := encodeResult(res)
	if err == nil && int64(len(data)) > w.nc.MaxPayload() {
		res = &resultMsg{Version: JobVersion, Hash: res.Hash, Worker: res.Worker, RuntimeS: res.RuntimeS,
			Error: fmt.Sprintf("result of %d bytes (compressed) exceeds the server's max_payload of %d", len(data), w.nc.MaxPayload())}
		data, err = encodeResult(res)
	}
	if err != nil {
		w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: fmt.Errorf("job %s: %w", res.Hash, err)})
		_ = msg.Nak()
		return
	}
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, err = w.kv.Put(pctx, res.Hash, data)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: fmt.Errorf("publishing the result of job %s (retrying): %w", res.Hash, err)})
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if err != nil {
		w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: fmt.Errorf("result of job %s not published; it will be run again: %w", res.Hash, err)})
		return
	}
	// A plain ack: waiting for the server's confirmation gains nothing (a
	// lost ack makes the job come again, and it is then skipped because its
	// result is out), and after a server restart the confirmation of a
	// delivery made before it may never come.
	if err := msg.Ack(); err != nil {
		w.em.emit(Event{Kind: EventInfo, Worker: w.o.ID, Err: fmt.Errorf("acknowledging job %s: %w", res.Hash, err)})
	}
	ev.Kind = EventDone
	if res.Error != "" {
		ev.Kind, ev.Err = EventFailed, errors.New(res.Error)
	}
	w.em.emit(ev)
}
