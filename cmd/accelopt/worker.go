package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/sweep"
)

func newWorkerCmd() *cobra.Command {
	var (
		natsURL, queue string
		concurrency    int
		idleExit       time.Duration
		quiet          bool
		nf             natsFlags
		limits         sweep.Limits
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run sweep jobs from a NATS JetStream queue (see accelopt sweep --nats)",
		Long: `Pull the jobs of 'accelopt sweep --nats' (or --embedded-nats) from the NATS
JetStream work queue, run --concurrency of them at a time, and publish each result
for the coordinator. Start one worker per machine, in any number and at any time; a
job whose worker dies is handed to another after the sweep's --ack-wait. The
worker waits for the server when it is not up yet and reconnects when it goes away.
Ctrl-C (or SIGTERM) hands the running jobs back to the queue and stops.

Credentials: --creds FILE, --nkey FILE, or the environment (NATS_TOKEN, or NATS_USER
and NATS_PASSWORD). TLS: a tls:// URL, --tls-ca (the CA of the server's certificate),
--tls-cert and --tls-key (a client certificate). A server that refuses the
credentials or the certificate is an error at once (exit status 1); an unreachable
one is waited for.

Every job is checked before it runs (layers, dimensions, budgets, search effort,
against the --max-* limits); one outside them, malformed or not matching its hash is
reported failed with the reason, and the worker goes on.

Each job prints 'start <hash>' and 'done <hash>' lines on stderr (nothing with --quiet).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if concurrency < 0 {
				return usageError{fmt.Errorf("--concurrency %d: must be 0 or more", concurrency)}
			}
			if concurrency == 0 {
				concurrency = max(1, runtime.NumCPU())
			}
			if idleExit < 0 {
				return usageError{fmt.Errorf("--idle-exit %s: must be 0 or more", idleExit)}
			}
			for _, c := range []struct {
				flag string
				v    int
			}{{"--max-layers", limits.MaxLayers}, {"--max-dim", limits.MaxDim}, {"--max-starts", limits.MaxStarts},
				{"--max-rounds", limits.MaxRounds}} {
				if c.v <= 0 {
					return usageError{fmt.Errorf("%s %d: must be positive", c.flag, c.v)}
				}
			}
			if limits.JobTimeout < 0 {
				return usageError{fmt.Errorf("--job-timeout %s: must be 0 or more", limits.JobTimeout)}
			}
			copts, err := nf.clientOptions("accelopt worker", os.Getenv)
			if err != nil {
				return usageError{err}
			}
			stderr := cmd.ErrOrStderr()
			var mu sync.Mutex
			logf := func(format string, a ...any) {
				if quiet {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(stderr, "accelopt worker: "+format+"\n", a...)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			copts.Wait = true
			copts.OnWait = func(err error) { logf("waiting for the server: %s", oneLine(err.Error())) }
			copts.OnError = func(err error) { logf("%s", oneLine(err.Error())) }
			nc, err := sweep.Connect(ctx, natsURL, copts)
			if err != nil {
				if ctx.Err() != nil {
					logf("stopped")
					return nil
				}
				return usageError{fmt.Errorf("--nats: %w", err)}
			}
			defer nc.Close()
			logf("pid %d, %d job slots, queue %s on %s", os.Getpid(), concurrency, queue, sweep.RedactURL(natsURL))
			err = sweep.Work(ctx, nc, sweep.WorkerOptions{Queue: queue, Concurrency: concurrency, IdleExit: idleExit, Limits: limits,
				OnEvent: func(ev sweep.Event) {
					label := ""
					if ev.Job != nil {
						label = " " + ev.Job.Label()
					}
					switch ev.Kind {
					case sweep.EventStart:
						logf("start %s%s (delivery %d)", ev.Hash, label, ev.Attempt)
					case sweep.EventDone:
						logf("done %s in %.2f s", ev.Hash, ev.Runtime.Seconds())
					case sweep.EventFailed:
						logf("failed %s: %s", ev.Hash, oneLine(ev.Err.Error()))
					case sweep.EventSkip:
						logf("skip %s: its result is already published", ev.Hash)
					case sweep.EventRequeue:
						logf("requeue %s: stopped mid-job, handed back to the queue", ev.Hash)
					case sweep.EventInfo:
						logf("%s", oneLine(ev.Err.Error()))
					}
				}})
			if err != nil {
				return fmt.Errorf("worker: %w", err)
			}
			logf("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&natsURL, "nats", sweep.DefaultURL, "URL of the NATS server with JetStream")
	f.IntVar(&concurrency, "concurrency", 0, "jobs run at once (0: the number of CPUs)")
	f.StringVar(&queue, "queue", sweep.DefaultQueue, "queue name, as given to accelopt sweep --queue")
	f.DurationVar(&idleExit, "idle-exit", 0, "stop after finding no job for this long (0: run until stopped)")
	f.BoolVar(&quiet, "quiet", false, "no log on stderr")
	dl := sweep.DefaultLimits()
	f.IntVar(&limits.MaxLayers, "max-layers", dl.MaxLayers, "refuse jobs whose network has more layers")
	f.IntVar(&limits.MaxDim, "max-dim", dl.MaxDim, "refuse jobs with a larger layer dimension, stride, dilation, group or repeat count")
	f.IntVar(&limits.MaxStarts, "max-starts", dl.MaxStarts, "refuse jobs with more local-search starts per layer")
	f.IntVar(&limits.MaxRounds, "max-rounds", dl.MaxRounds, "refuse jobs with more hardware search rounds")
	f.DurationVar(&limits.JobTimeout, "job-timeout", 0, "fail a job that runs longer than this (0: no limit)")
	nf.register(f)
	return cmd
}
