package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// redrawEvery is how often the bar is redrawn between steps, so that its
// spinner and elapsed time move during a long step.
const redrawEvery = 250 * time.Millisecond

// progress reports a long run on stderr: with a progress bar under the
// progress lines when stderr is a terminal, as plain lines when it is not
// (a log file, CI), and not at all when quiet. Its methods may be called
// from several goroutines.
type progress struct {
	w     io.Writer
	quiet bool

	mu   sync.Mutex
	bar  *progressbar.ProgressBar // nil unless drawing on a terminal
	stop chan struct{}            // closed by Done to stop the redraws
	wg   sync.WaitGroup
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// every calls f every d on a goroutine counted by wg, until stop is closed.
func every(wg *sync.WaitGroup, stop <-chan struct{}, d time.Duration, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// newProgress starts reporting on w. total is the number of steps (-1 when
// unknown: the bar then shows a spinner and a step count); desc labels the
// bar; tty selects the bar.
func newProgress(w io.Writer, quiet, tty bool, total int, desc string) *progress {
	p := &progress{w: w, quiet: quiet}
	if quiet || !tty {
		return p
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	}
	if total > 0 {
		opts = append(opts, progressbar.OptionSetPredictTime(true))
	} else {
		total = -1
		opts = append(opts, progressbar.OptionSpinnerType(14), progressbar.OptionSetPredictTime(false))
	}
	p.bar = progressbar.NewOptions(total, opts...)
	p.stop = make(chan struct{})
	every(&p.wg, p.stop, redrawEvery, func() {
		p.mu.Lock()
		if p.bar != nil {
			_ = p.bar.RenderBlank()
		}
		p.mu.Unlock()
	})
	return p
}

// Logf prints one line (above the bar when there is one).
func (p *progress) Logf(format string, a ...any) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", a...)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

// Step records one finished step and prints its line.
func (p *progress) Step(line string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		fmt.Fprintln(p.w, line)
		return
	}
	_ = p.bar.Clear()
	fmt.Fprintln(p.w, line)
	_ = p.bar.Add(1)
}

// Done removes the bar. Nothing may be reported after it.
func (p *progress) Done() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
	}
}
