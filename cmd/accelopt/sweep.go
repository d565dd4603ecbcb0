package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/sweep"
)

func newSweepCmd() *cobra.Command {
	var (
		out, natsURL, embedded, queue string
		workers                       int
		ackWait                       time.Duration
		quiet, list                   bool
		nf                            natsFlags
	)
	cmd := &cobra.Command{
		Use:   "sweep SPEC.yaml",
		Short: "Run a design-space sweep (networks x templates x objectives x budgets x seeds), here or on NATS workers",
		Long: `Run one co-optimization (as accelopt optimize does) for every combination of the
spec's networks, templates, objectives, budgets and seeds. Each job is identified by a
hash of its inputs; its result goes to --out under jobs/<hash>/ (job.json, result.json,
timeloop/) as soon as it finishes, and a rerun skips the jobs already stored, so an
interrupted sweep resumes. At the end --out holds sweep.json (one row per job) and a
summary table is printed.

Without --nats the jobs run on this machine, --workers at a time. With --nats URL the
jobs go to a NATS JetStream work queue and any number of 'accelopt worker --nats URL'
processes, on any machines, run them; --embedded-nats host:port starts a NATS server
with JetStream inside this process for clusters without one. See docs/SWEEP.md.

NATS security: credentials come from --creds FILE, --nkey FILE, or the environment
(NATS_TOKEN, or NATS_USER and NATS_PASSWORD), never from other flags; TLS from a
tls:// URL and --tls-ca, --tls-cert, --tls-key. An embedded server on a loopback
address is open to the processes of this machine; on any other address it requires
NATS_TOKEN or NATS_USER/NATS_PASSWORD if set, or else generates a token (kept in
OUT/.nats/token) and prints how workers pass it. With --tls-cert and --tls-key it
requires TLS; with --tls-ca too, client certificates signed by that CA.

Spec (YAML; lists are crossed, relative paths are read from the spec's folder):
  networks: [resnet18, nets/small.csv]      # zoo names or network files
  templates: [eyeriss, simba]               # default [eyeriss]
  objectives: [latency, edp]                # default [latency]
  budgets: {max_power_w: [0.3, 0.6], max_area_mm2: [2.5], max_latency_ms: [0]}  # 0 or absent: none
  seeds: [1, 2, 3]                          # default [1]
  batch: 1                                  # optional batch size for every network
  starts: 0                                 # local-search starts per layer (0: default)
  rounds: 0                                 # hardware search rounds (0: default)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specPath := args[0]
			var err error
			if natsURL != "" && embedded != "" {
				return usageError{errors.New("sweep: give --nats or --embedded-nats, not both")}
			}
			distributed := natsURL != "" || embedded != ""
			if workers < 0 {
				return usageError{fmt.Errorf("--workers %d: must be 0 or more", workers)}
			}
			if ackWait <= 0 {
				return usageError{fmt.Errorf("--ack-wait %s: must be positive", ackWait)}
			}
			if !distributed && (nf != natsFlags{}) {
				return usageError{errors.New("--creds, --nkey and --tls-* need --nats or --embedded-nats")}
			}
			// Check the security settings before any work.
			var (
				clientOpts sweep.ClientOptions
				serverOpts sweep.ServerOptions
			)
			switch {
			case embedded != "":
				if serverOpts, err = nf.serverOptions(embedded, filepath.Join(out, ".nats"), os.Getenv); err != nil {
					return usageError{fmt.Errorf("--embedded-nats: %w", err)}
				}
			case natsURL != "":
				if clientOpts, err = nf.clientOptions("accelopt sweep", os.Getenv); err != nil {
					return usageError{fmt.Errorf("--nats: %w", err)}
				}
			}
			spec, err := sweep.ReadSpec(specPath)
			if err != nil {
				return usageError{err}
			}
			jobs, err := spec.Jobs()
			if err != nil {
				return usageError{err}
			}
			if list {
				printJobList(cmd.OutOrStdout(), jobs)
				return nil
			}
			store := sweep.Store{Dir: out}
			if err := store.Init(); err != nil {
				return err
			}
			todo := len(sweep.Pending(store, jobs))
			stderr := cmd.ErrOrStderr()
			prog := newSweepProgress(stderr, quiet, todo)
			prog.logf("accelopt: sweep %s: %d jobs, %d already done, %d to run", specPath, len(jobs), len(jobs)-todo, todo)

			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			t0 := time.Now()
			var runErr error
			if !distributed {
				if workers == 0 {
					workers = defaultWorkers()
				}
				runErr = sweep.RunLocal(ctx, store, jobs, sweep.LocalOptions{Workers: workers, OnEvent: prog.event})
			} else {
				var nc *nats.Conn
				if embedded != "" {
					srv, err := sweep.StartServer(serverOpts)
					if err != nil {
						prog.finish()
						return usageError{fmt.Errorf("--embedded-nats: %w", err)}
					}
					defer srv.Shutdown()
					hint := nf.workerHint(srv, serverOpts.TLS != nil)
					if srv.Auth() == sweep.AuthGeneratedToken {
						// Printed even with --quiet: workers cannot join without it.
						prog.printAlways(fmt.Sprintf("accelopt: embedded NATS server on %s requires a token (generated, kept in %s); start workers with: %s",
							embedded, srv.TokenFile(), hint))
					} else {
						prog.logf("accelopt: embedded NATS server at %s (JetStream store %s, authentication: %s, TLS: %v); start workers with: %s",
							srv.URL(), serverOpts.StoreDir, srv.Auth(), serverOpts.TLS != nil, hint)
					}
					if nc, err = srv.Connect("accelopt sweep"); err != nil {
						prog.finish()
						return err
					}
				} else {
					clientOpts.OnError = func(err error) { prog.logf("accelopt: %s", oneLine(err.Error())) }
					if nc, err = sweep.Connect(ctx, natsURL, clientOpts); err != nil {
						prog.finish()
						return usageError{fmt.Errorf("--nats: %w", err)}
					}
				}
				defer nc.Close()
				runErr = sweep.Coordinate(ctx, nc, store, jobs, sweep.CoordinatorOptions{Queue: queue, AckWait: ackWait,
					Workers: workers, OnEvent: prog.event})
			}
			prog.finish()
			sum, err := sweep.BuildSummary(store, specPath, jobs)
			if err != nil {
				return err
			}
			if err := sweep.WriteSummary(store, sum); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			sweep.PrintTable(w, sum)
			fmt.Fprintf(w, "\n%d jobs: %d done, %d failed, %d pending; %.1f s; wrote %s\n", sum.Jobs, sum.Done, sum.Failed, sum.Pending,
				time.Since(t0).Seconds(), filepath.Join(out, sweep.SummaryFile))
			switch {
			case errors.Is(runErr, sweep.ErrInterrupted):
				return fmt.Errorf("sweep %s interrupted (%d of %d jobs done); run the same command again to resume", specPath, sum.Done, sum.Jobs)
			case runErr != nil:
				return runErr
			case sum.Failed > 0:
				return fmt.Errorf("sweep %s: %d of %d jobs failed (see %s); a rerun retries them", specPath, sum.Failed, sum.Jobs,
					filepath.Join(out, "failed"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "sweep-out", "output folder (jobs/<hash>/, sweep.json); rerunning with the same folder resumes")
	f.IntVar(&workers, "workers", 0, "jobs run at once on this machine (0: the number of CPUs without --nats, none with --nats)")
	f.StringVar(&natsURL, "nats", "", "run the jobs on workers through the NATS JetStream server at this URL (e.g. nats://127.0.0.1:4222)")
	f.StringVar(&embedded, "embedded-nats", "", "start a NATS server with JetStream in this process on host:port (e.g. 127.0.0.1:4222) and use it")
	f.StringVar(&queue, "queue", sweep.DefaultQueue, "name of the queue's JetStream objects (<queue>_jobs stream, <queue>_results bucket)")
	f.DurationVar(&ackWait, "ack-wait", sweep.DefaultAckWait, "time after which the job of a worker that stopped answering goes to another worker")
	f.BoolVar(&quiet, "quiet", false, "no progress on stderr")
	f.BoolVar(&list, "list", false, "print the jobs and their hashes without running them")
	nf.register(f)
	return cmd
}

// defaultWorkers is the default size of the local pool.
func defaultWorkers() int {
	return max(1, runtime.NumCPU())
}

// printJobList prints one line per job.
func printJobList(w io.Writer, jobs []sweep.Job) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "hash\tnetwork\ttemplate\tobjective\tmax power W\tmax area mm2\tmax latency ms\tseed")
	for i := range jobs {
		j := &jobs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g\t%g\t%g\t%d\n", j.Hash(), j.Network, j.Template, j.Objective,
			j.Budgets.MaxPowerW, j.Budgets.MaxAreaMM2, j.Budgets.MaxLatencyMs, j.Seed)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d jobs\n", len(jobs))
}

// sweepProgress shows a sweep's progress on stderr: a progress bar on a
// terminal, a line every sweepLogEvery otherwise, nothing when quiet.
// Failures and messages are printed as they come.
type sweepProgress struct {
	mu     sync.Mutex
	w      io.Writer
	quiet  bool
	bar    *progressbar.ProgressBar
	total  int
	done   int
	failed int
	t0     time.Time
	last   time.Time
	stop   chan struct{}
	ended  sync.WaitGroup
	once   sync.Once
}

const sweepLogEvery = 10 * time.Second

func newSweepProgress(w io.Writer, quiet bool, total int) *sweepProgress {
	p := &sweepProgress{w: w, quiet: quiet, total: total, t0: time.Now(), stop: make(chan struct{})}
	if quiet || total == 0 {
		return p
	}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("sweep"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionThrottle(100*time.Millisecond))
		return p
	}
	every(&p.ended, p.stop, sweepLogEvery, func() {
		p.mu.Lock()
		p.line()
		p.mu.Unlock()
	})
	return p
}

// line prints the plain progress line; p.mu is held.
func (p *sweepProgress) line() {
	fmt.Fprintf(p.w, "accelopt: sweep: %d/%d jobs done, %d failed, %.0f s\n", p.done, p.total, p.failed, time.Since(p.t0).Seconds())
	p.last = time.Now()
}

// printAlways prints a message line, also when quiet.
func (p *sweepProgress) printAlways(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(s)
}

// logf prints a message line (above the bar, if any).
func (p *sweepProgress) logf(format string, a ...any) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(fmt.Sprintf(format, a...))
}

func (p *sweepProgress) printLocked(s string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, s)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

// event takes a sweep event.
func (p *sweepProgress) event(ev sweep.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case sweep.EventInfo:
		p.printLocked("accelopt: " + oneLine(ev.Err.Error()))
	case sweep.EventDone, sweep.EventFailed:
		p.done, p.failed = ev.Done, ev.Failed
		if ev.Kind == sweep.EventFailed {
			label := ev.Hash
			if ev.Job != nil {
				label += " (" + ev.Job.Label() + ")"
			}
			p.printLocked(fmt.Sprintf("accelopt: job %s failed: %s", label, oneLine(ev.Err.Error())))
		}
		if p.bar != nil {
			_ = p.bar.Set(p.done + p.failed)
		}
	}
}

// finish removes the bar or prints the last plain line.
func (p *sweepProgress) finish() {
	p.once.Do(p.end)
}

func (p *sweepProgress) end() {
	close(p.stop)
	p.ended.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet || p.total == 0 {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
		return
	}
	p.line()
}
