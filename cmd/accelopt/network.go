package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/workload"
)

// networkFlags are the flags that choose a network: --network (when asked
// for), --batch, --seq-len and --input-shape. Commands that take a network
// register them and call load.
type networkFlags struct {
	spec        string
	batch       int
	seqLen      int
	inputShapes []string
}

// register adds the flags to cmd; withNetwork adds --network and --seq-len
// too.
func (f *networkFlags) register(cmd *cobra.Command, withNetwork bool) {
	fl := cmd.Flags()
	if withNetwork {
		fl.StringVar(&f.spec, "network", workload.DefaultZooNetwork,
			"zoo network name or file (.onnx, .csv, .json, .yaml Timeloop problem or network, folder of Timeloop problems)")
	}
	fl.IntVar(&f.batch, "batch", 0, "batch size N (default: the network's own, 1 for the zoo)")
	if withNetwork {
		fl.IntVar(&f.seqLen, "seq-len", 0, "sequence length for bert_base (default 128)")
	}
	fl.StringArrayVar(&f.inputShapes, "input-shape", nil, inputShapeUsage)
}

// options converts the flags into workload.LoadOptions.
func (f *networkFlags) options() (workload.LoadOptions, error) {
	o := workload.LoadOptions{Batch: f.batch, SeqLen: f.seqLen}
	if f.batch < 0 {
		return o, fmt.Errorf("--batch %d: must be positive", f.batch)
	}
	if f.seqLen < 0 {
		return o, fmt.Errorf("--seq-len %d: must be positive", f.seqLen)
	}
	for _, s := range f.inputShapes {
		in, err := workload.ParseInputShape(s)
		if err != nil {
			return o, fmt.Errorf("--input-shape: %w", err)
		}
		o.InputShapes = append(o.InputShapes, in)
	}
	return o, nil
}

// load returns the network named by --network (or spec when --network was
// not registered), as a usage error when it cannot be read.
func (f *networkFlags) load() (workload.Network, error) {
	o, err := f.options()
	if err != nil {
		return workload.Network{}, usageError{err}
	}
	n, err := workload.LoadNetwork(f.spec, o)
	if err != nil {
		return workload.Network{}, usageError{err}
	}
	return n, nil
}

// printNetworkTable prints the layers as an aligned table, with the
// conventions of the JSON form (C per group, M in total), and a total line.
func printNetworkTable(w io.Writer, n workload.Network) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\ttype\tN\tC\tM\tP\tQ\tR\tS\tstride\tdilation\tgroups\tcount\tMMACs")
	for _, l := range n.Layers {
		r := workload.RecordOf(l)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%.2f\n",
			r.Name, r.Type, r.N, r.C, r.M, r.P, r.Q, r.R, r.S,
			pair(r.Wstride, r.Hstride), pair(r.Wdilation, r.Hdilation), r.Groups, r.Count,
			float64(l.MACs())*float64(r.Count)/1e6)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %d layers (%d distinct shapes), %.3f GMACs\n",
		n.Name, workload.LayerCount(n), len(n.Layers), float64(n.MACs())/1e9)
	return err
}

// pair shows a width/height pair as one number when equal, else WxH.
func pair(w, h int) string {
	if w == h {
		return strconv.Itoa(w)
	}
	return strconv.Itoa(w) + "x" + strconv.Itoa(h)
}

// inputShapeUsage is the help text of --input-shape.
const inputShapeUsage = "ONNX input shape, e.g. 1x3x224x224 (first input) or NAME=1x3x224x224; repeat for several inputs"

// loadNetworkFlag loads --network for the commands that register their own
// --network, --batch (default 1) and --input-shape: with --input-shape and no
// explicit --batch the shape's first dimension stands. Errors read as those of
// `accelopt import`.
func loadNetworkFlag(cmd *cobra.Command, spec string, batch int, shapes []string) (workload.Network, error) {
	nf := networkFlags{spec: spec, batch: batch, inputShapes: shapes}
	if len(shapes) > 0 && !cmd.Flags().Changed("batch") {
		nf.batch = 0
	}
	o, err := nf.options()
	if err != nil {
		return workload.Network{}, usageError{err}
	}
	n, err := workload.LoadNetwork(spec, o)
	if err != nil {
		return workload.Network{}, usageError{fmt.Errorf("--network %s: %w", spec, err)}
	}
	if len(n.Layers) == 0 {
		return workload.Network{}, usageError{fmt.Errorf("--network %s: no layers", spec)}
	}
	return n, nil
}
