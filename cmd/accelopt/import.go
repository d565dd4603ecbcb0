package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/accelopt/accelopt/workload"
)

// newImportCmd builds `accelopt import onnx|csv|timeloop FILE`.
func newImportCmd() *cobra.Command {
	var nf networkFlags
	var printFormat *formatFlag
	var out string
	cmd := &cobra.Command{
		Use:   "import onnx|csv|timeloop FILE",
		Short: "Read a network from an ONNX model, a layer CSV or Timeloop problems",
		Long: `Read a network and print its layers (a table by default, or --format json|csv;
--json is --format json), or
write it with -o as a network YAML (JSON when the name ends in .json) that every
--network flag accepts.

  onnx      an ONNX model: Conv (strides, pads, dilations, groups), ConvTranspose
            (as stride-1 sub-convolutions, one per output phase, with its true MACs),
            Gemm and MatMul, with shapes propagated from the inputs; --input-shape
            sets symbolic inputs
  csv       a header row (name,type,N,C,M|K,P,Q,R,S,Wstride,Hstride,Wdilation,
            Hdilation,groups,count; C and M required) and one layer per row
  timeloop  a Timeloop problem YAML, or a folder of them

Repeated shapes become one layer with a count. C is the input channels per group,
M the output channels in total.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, path := strings.ToLower(args[0]), args[1]
			outFormat, err := printFormat.get()
			if err != nil {
				return err
			}
			o, err := nf.options()
			if err != nil {
				return usageError{fmt.Errorf("import: %w", err)}
			}
			if format != "onnx" && len(o.InputShapes) > 0 {
				return usageError{fmt.Errorf("import %s: --input-shape applies only to ONNX models", format)}
			}
			n, err := importNetwork(format, path, o)
			if err != nil {
				return usageError{err}
			}
			if out != "" {
				var buf bytes.Buffer
				if strings.EqualFold(filepath.Ext(out), ".json") {
					err = workload.WriteNetworkJSON(&buf, n)
				} else {
					err = workload.WriteNetworkYAML(&buf, n)
				}
				if err != nil {
					return fmt.Errorf("import: writing %s: %w", out, err)
				}
				if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					return usageError{fmt.Errorf("import: %w", err)}
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "accelopt import: wrote %s: %d layers (%d distinct shapes), %.3f GMACs\n",
					out, workload.LayerCount(n), len(n.Layers), float64(n.MACs())/1e9)
				return nil
			}
			return writeNetwork(cmd.OutOrStdout(), n, outFormat)
		},
	}
	nf.register(cmd, false)
	printFormat = registerFormat(cmd, true)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the network to this file (YAML, or JSON for *.json)")
	cmd.MarkFlagsMutuallyExclusive("json", "output")
	cmd.MarkFlagsMutuallyExclusive("format", "output")
	return cmd
}

// importNetwork reads path in the given format.
func importNetwork(format, path string, o workload.LoadOptions) (workload.Network, error) {
	var n workload.Network
	var err error
	switch format {
	case "onnx":
		return workload.ReadONNXFile(path, workload.ONNXOptions{InputShapes: o.InputShapes, Batch: o.Batch})
	case "csv":
		var f *os.File
		if f, err = os.Open(path); err != nil {
			return n, err
		}
		defer f.Close()
		if n, err = workload.ReadCSV(f, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))); err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
	case "timeloop":
		var st os.FileInfo
		if st, err = os.Stat(path); err != nil {
			return n, err
		}
		if st.IsDir() {
			n, err = workload.ReadTimeloopDir(path)
		} else {
			var l workload.Layer
			if l, err = workload.ReadTimeloopProblem(path); err == nil {
				n = workload.Network{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Layers: []workload.Layer{l}}
			}
		}
		if err != nil {
			return n, err
		}
	default:
		return n, fmt.Errorf("import: unknown format %q (want onnx, csv or timeloop)", format)
	}
	if o.Batch > 0 {
		if n, err = workload.SetBatch(n, o.Batch); err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
	}
	return n, nil
}
