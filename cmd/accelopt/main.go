// Command accelopt co-designs CNN accelerator hardware and dataflow. This
// package holds the command line only: flags, files and printing.
package main

import (
	"errors"
	"fmt"
	"os"

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
	root.AddCommand(newEvalCmd())
	// helper-registered commands
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI and returns the exit status. A panic anywhere below is
// turned into a one-line error rather than a trace.
func run(args []string) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "accelopt: internal error: %v\n", r)
			status = 1
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var u usageError
		_ = errors.As(err, &u)
		fmt.Fprintf(os.Stderr, "accelopt: %v\n", err)
		return 1
	}
	return 0
}
