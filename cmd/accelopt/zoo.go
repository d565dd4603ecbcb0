package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/workload"
)

// newZooCmd builds `accelopt zoo` (list the built-in networks) and
// `accelopt zoo show NAME` (print one network's layers).
func newZooCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zoo",
		Short: "List the built-in networks",
		Long: `List the built-in networks. Their shapes follow the standard definitions at
224x224 input; bert_base is one encoder layer written as matmuls.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLAYERS\tSHAPES\tGMACS\tDESCRIPTION")
			for _, name := range workload.ZooNames() {
				n, err := workload.Zoo(name, workload.ZooOptions{})
				if err != nil {
					return err
				}
				desc := workload.ZooDescription(name)
				if name == workload.DefaultZooNetwork {
					desc += " (default)"
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%s\n", name, workload.LayerCount(n), len(n.Layers),
					float64(n.MACs())/1e9, desc)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(newZooShowCmd())
	return cmd
}

func newZooShowCmd() *cobra.Command {
	var batch, seqLen int
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Print the layers of a built-in network",
		Long: `Print the layers of a built-in network as a table; with --format json (or --json) as
{"layers":[{"name","type","N","C","M","P","Q","R","S","Wstride","Hstride","Wdilation","Hdilation","groups","count"}]},
with --format csv as a layer CSV with those columns (which --network and import csv read),
where C is the input channels per group and M the output channels in total.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			outFormat, err := format.get()
			if err != nil {
				return err
			}
			if batch < 1 {
				return usageError{fmt.Errorf("zoo show: --batch %d must be positive", batch)}
			}
			if seqLen < 1 {
				return usageError{fmt.Errorf("zoo show: --seq-len %d must be positive", seqLen)}
			}
			n, err := workload.Zoo(args[0], workload.ZooOptions{Batch: batch, SeqLen: seqLen})
			if err != nil {
				return usageError{fmt.Errorf("zoo show: %w", err)}
			}
			return writeNetwork(cmd.OutOrStdout(), n, outFormat)
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 1, "batch size N")
	cmd.Flags().IntVar(&seqLen, "seq-len", 128, "sequence length (bert_base)")
	format = registerFormat(cmd, true)
	return cmd
}
