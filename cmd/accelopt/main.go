// Command accelopt co-designs CNN accelerator hardware and dataflow. This
// package holds the command line only: flags, files and printing.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks errors caused by bad flags or input; they exit with status 1
// and a one-line message.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "accelopt",
		Short:         "Co-optimize CNN accelerator hardware and dataflow",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newEvalCmd(), newOptimizeCmd(), newParetoCmd())
	root.AddCommand(newZooCmd(), newImportCmd())
	// helper-registered commands
	root.AddCommand(newCompareCmd())
	root.AddCommand(newSweepCmd(), newWorkerCmd())
	root.AddCommand(newReportCmd(), newGoldensCmd())
	return root
}

func main() {
	// The searches allocate many short-lived candidates and keep little:
	// collecting at 4x the live heap instead of 2x cuts the default run's
	// CPU by about 12% for some 30 MB more memory (GOGC still overrides).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the exit status. A panic anywhere below is
// turned into a one-line error rather than a trace.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "accelopt: internal error: %v\n", r)
			status = 1
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		var u usageError
		_ = errors.As(err, &u)
		fmt.Fprintf(stderr, "accelopt: %s\n", oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine folds a message onto a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
