package workload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadOptions parameterizes LoadNetwork.
type LoadOptions struct {
	// Batch, when positive, is the batch size: N of a zoo network, the first
	// dimension of every input of an ONNX model, and N of every layer of the
	// other file formats.
	Batch int
	// SeqLen is the sequence length of the bert_base zoo network.
	SeqLen int
	// InputShapes fix the input shapes of an ONNX model (see ONNXOptions).
	InputShapes []InputShape
}

// LoadNetwork returns the network that spec names: a zoo network (see
// ZooNames; "" means DefaultZooNetwork), or a file: an ONNX model (.onnx), a
// layer CSV (.csv), a network JSON (.json) as `accelopt zoo show --json`
// prints it, a YAML file (.yaml or .yml) holding either one Timeloop problem
// or a network as `accelopt import -o` writes it, or a folder of Timeloop
// problem files (every *.yaml and *.yml with a top-level problem key, in name
// order). A zoo name wins over a file of the same name unless spec contains a
// path separator. Later options override the non-zero fields of earlier ones.
func LoadNetwork(spec string, opts ...LoadOptions) (Network, error) {
	var o LoadOptions
	for _, x := range opts {
		if x.Batch != 0 {
			o.Batch = x.Batch
		}
		if x.SeqLen != 0 {
			o.SeqLen = x.SeqLen
		}
		if x.InputShapes != nil {
			o.InputShapes = x.InputShapes
		}
	}
	if o.Batch < 0 || o.Batch > maxDimValue {
		return Network{}, fmt.Errorf("batch %d: must be positive", o.Batch)
	}
	if spec == "" {
		spec = DefaultZooNetwork
	}
	if IsZooName(spec) && !strings.ContainsAny(spec, `/\`) {
		if len(o.InputShapes) > 0 {
			return Network{}, fmt.Errorf("network %s: --input-shape applies only to ONNX models", spec)
		}
		return Zoo(spec, ZooOptions{Batch: o.Batch, SeqLen: o.SeqLen})
	}
	st, err := os.Stat(spec)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Network{}, fmt.Errorf("network %q: not a zoo network (%s) and no such file", spec, strings.Join(ZooNames(), ", "))
		}
		return Network{}, fmt.Errorf("network %s: %w", spec, err)
	}
	ext := strings.ToLower(filepath.Ext(spec))
	if ext == ".onnx" {
		return ReadONNXFile(spec, ONNXOptions{InputShapes: o.InputShapes, Batch: o.Batch})
	}
	if len(o.InputShapes) > 0 {
		return Network{}, fmt.Errorf("network %s: --input-shape applies only to ONNX models", spec)
	}
	var net Network
	switch {
	case st.IsDir():
		net, err = ReadTimeloopDir(spec)
	case ext == ".csv":
		net, err = readFileWith(spec, ReadCSV)
	case ext == ".json":
		net, err = readFileWith(spec, ReadNetworkJSON)
	case ext == ".yaml" || ext == ".yml":
		net, err = readYAMLNetwork(spec)
	default:
		return Network{}, fmt.Errorf("network %s: unknown file type %q (want .onnx, .csv, .json, .yaml, .yml or a folder of Timeloop problems)", spec, ext)
	}
	if err != nil {
		return Network{}, err
	}
	if o.Batch > 0 {
		if net, err = SetBatch(net, o.Batch); err != nil {
			return Network{}, fmt.Errorf("%s: %w", spec, err)
		}
	}
	return net, nil
}

// SetBatch returns a copy of the network with N = batch in every layer
// (repeated shapes merged again). Layers that keep their batch in G, such as
// bert_base's attention matmuls, are better rebuilt with Zoo.
func SetBatch(n Network, batch int) (Network, error) {
	if batch <= 0 || batch > maxDimValue {
		return Network{}, fmt.Errorf("batch %d: must be positive", batch)
	}
	layers := append([]Layer(nil), n.Layers...)
	for i := range layers {
		layers[i].Dims[N] = batch
	}
	out := Network{Name: n.Name, Layers: MergeRepeats(layers)}
	if err := checkNetwork(out); err != nil {
		return Network{}, err
	}
	return out, nil
}

// baseName is a file's name without folder and extension.
func baseName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// readFileWith opens path and reads it with read, prefixing errors with path.
func readFileWith(path string, read func(io.Reader, string) (Network, error)) (Network, error) {
	f, err := os.Open(path)
	if err != nil {
		return Network{}, err
	}
	defer f.Close()
	net, err := read(f, baseName(path))
	if err != nil {
		return Network{}, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// yamlTopKeys returns the keys of a YAML document's top-level mapping.
func yamlTopKeys(data []byte) (map[string]bool, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty YAML document")
		}
		return nil, fmt.Errorf("not valid YAML: %s", oneLine(err))
	}
	keys := map[string]bool{}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			keys[m.Content[i].Value] = true
		}
	}
	return keys, nil
}

// readYAMLNetwork reads a YAML file holding a Timeloop problem or a network.
func readYAMLNetwork(path string) (Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Network{}, err
	}
	keys, err := yamlTopKeys(data)
	if err != nil {
		return Network{}, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case keys["problem"]:
		l, err := ReadTimeloopProblem(path)
		if err != nil {
			return Network{}, err
		}
		net := Network{Name: baseName(path), Layers: []Layer{l}}
		if err := checkNetwork(net); err != nil {
			return Network{}, fmt.Errorf("%s: %w", path, err)
		}
		return net, nil
	case keys["layers"]:
		net, err := ReadNetworkYAML(bytes.NewReader(data), baseName(path))
		if err != nil {
			return Network{}, fmt.Errorf("%s: %w", path, err)
		}
		net.Layers = MergeRepeats(net.Layers)
		return net, nil
	}
	return Network{}, fmt.Errorf("%s: neither a Timeloop problem (top-level key problem) nor a network (top-level key layers)", path)
}

// ReadTimeloopDir reads every Timeloop problem file (*.yaml and *.yml with a
// top-level problem key) in a folder, in name order, as one network named
// after the folder. Each layer is named after its file; repeated shapes are
// merged.
func ReadTimeloopDir(dir string) (Network, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Network{}, err
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	net := Network{Name: filepath.Base(filepath.Clean(dir))}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return Network{}, err
		}
		keys, err := yamlTopKeys(data)
		if err != nil {
			return Network{}, fmt.Errorf("%s: %w", f, err)
		}
		if !keys["problem"] {
			continue // not a problem file (an architecture, mapper settings, ...)
		}
		l, err := ReadTimeloopProblem(f)
		if err != nil {
			return Network{}, err
		}
		net.Layers = append(net.Layers, l)
	}
	if len(net.Layers) == 0 {
		return Network{}, fmt.Errorf("%s: no Timeloop problem files (*.yaml with a top-level problem key)", dir)
	}
	net.Layers = MergeRepeats(net.Layers)
	if err := checkNetwork(net); err != nil {
		return Network{}, fmt.Errorf("%s: %w", dir, err)
	}
	return net, nil
}
