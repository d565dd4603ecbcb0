package workload

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNetworkJSONAndYAMLRoundTrip(t *testing.T) {
	for _, name := range ZooNames() {
		net, err := Zoo(name, ZooOptions{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		var js, ys bytes.Buffer
		if err := WriteNetworkJSON(&js, net); err != nil {
			t.Fatal(err)
		}
		if err := WriteNetworkYAML(&ys, net); err != nil {
			t.Fatal(err)
		}
		fromJSON, err := ReadNetworkJSON(bytes.NewReader(js.Bytes()), name)
		if err != nil {
			t.Fatalf("%s JSON: %v", name, err)
		}
		fromYAML, err := ReadNetworkYAML(bytes.NewReader(ys.Bytes()), "other")
		if err != nil {
			t.Fatalf("%s YAML: %v", name, err)
		}
		for _, got := range []Network{fromJSON, fromYAML} {
			if !reflect.DeepEqual(got, net) {
				t.Errorf("%s: round trip changed the network:\n got %+v\nwant %+v", name, got, net)
			}
		}
	}
}

func TestNetworkJSONFields(t *testing.T) {
	net, _ := Zoo("mobilenet_v2", ZooOptions{})
	var buf bytes.Buffer
	if err := WriteNetworkJSON(&buf, net); err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 1 || doc["layers"] == nil {
		t.Fatalf("top-level keys of %s", buf.String()[:80])
	}
	wantKeys := []string{"name", "type", "N", "C", "M", "P", "Q", "R", "S", "Wstride", "Hstride", "Wdilation", "Hdilation", "groups", "count"}
	dw := doc["layers"][1]
	if len(dw) != len(wantKeys) {
		t.Errorf("layer has keys %v, want %v", dw, wantKeys)
	}
	for _, k := range wantKeys {
		if _, ok := dw[k]; !ok {
			t.Errorf("layer lacks key %q", k)
		}
	}
	// Depthwise: C per group is 1, M counts all output channels.
	if dw["C"] != 1.0 || dw["M"] != 32.0 || dw["groups"] != 32.0 || dw["type"] != "dwconv" {
		t.Errorf("depthwise layer %v", dw)
	}
}

func TestReadNetworkDocumentErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"fraction", "layers:\n- {C: 0.5, M: 4}\n", "not an integer"},
		{"string number", "layers:\n- {C: \"3\", M: 4}\n", "not an integer"},
		{"unknown field", "layers:\n- {C: 3, M: 4, X: 1}\n", "X"},
		{"missing C", "layers:\n- {M: 4}\n", "field C: missing"},
		{"M and K", "layers:\n- {C: 3, M: 4, K: 4}\n", "not both"},
		{"groups do not divide M", "layers:\n- {C: 1, M: 10, groups: 4}\n", "multiple of groups"},
		{"zero stride", "layers:\n- {C: 3, M: 4, Wstride: 0}\n", "Wstride: 0 must be positive"},
		{"bad type", "layers:\n- {C: 3, M: 4, type: lstm}\n", "unknown layer type"},
		{"no layers key", "name: x\n", "field layers: missing"},
		{"empty layers", "layers: []\n", "no layers"},
		{"empty", "", "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNetworkYAML(strings.NewReader(tc.yaml), "n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := ReadNetworkJSON(strings.NewReader(`{"layers":[{"C":1.5,"M":2}]}`), "n"); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Errorf("JSON fraction: %v", err)
	}
	n, err := ReadNetworkJSON(strings.NewReader(`{"layers":[{"C":8,"K":16,"P":4,"Q":4,"groups":2}]}`), "n")
	if err != nil {
		t.Fatal(err)
	}
	if l := n.Layers[0]; l.Dims[M] != 8 || l.Dims[G] != 2 || l.Count != 1 || l.Dims[N] != 1 || l.Type != "conv" {
		t.Errorf("K and defaults: %+v", l)
	}
}

func TestMergeRepeats(t *testing.T) {
	a := NewConv("a", 8, 8, 3, 3, 14, 14)
	b := NewConv("b", 8, 16, 1, 1, 14, 14)
	a2 := a
	a2.Name = "a2"
	a2.Count = 3
	c := a
	c.Wstride = 2
	got := MergeRepeats([]Layer{a, b, a2, c})
	if len(got) != 3 || got[0].Name != "a" || got[0].Count != 4 || got[1].Name != "b" || got[2].Wstride != 2 {
		t.Errorf("MergeRepeats = %+v", got)
	}
}

func TestReadCSV(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "import", "layers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	net, err := ReadCSV(f, "layers")
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Layers) != 4 || LayerCount(net) != 5 {
		t.Fatalf("%d layers, %d instances; want 4 and 5", len(net.Layers), LayerCount(net))
	}
	wants := []want{
		{name: "stem", typ: "conv", n: 1, c: 3, m: 32, p: 112, q: 112, r: 3, s: 3, g: 1, ws: 2, hs: 2},
		{name: "dw1", typ: "dwconv", n: 1, c: 1, m: 1, p: 112, q: 112, r: 3, s: 3, g: 32},
		{name: "pw1", typ: "conv", n: 1, c: 32, m: 64, p: 112, q: 112, r: 1, s: 1, g: 1, count: 2},
		{name: "classifier", typ: "fc", n: 1, c: 1280, m: 1000, p: 1, q: 1, r: 1, s: 1, g: 1},
	}
	for i, w := range wants {
		checkLayer(t, net.Layers[i], w)
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, csv, want string
	}{
		{"empty", "", "empty CSV"},
		{"header only", "C,M\n", "no rows"},
		{"unknown column", "C,M,X\n1,2,3\n", `unknown column "X"`},
		{"missing M", "C,P\n1,2\n", "column M (or K) is missing"},
		{"repeated column", "C,M,m\n1,2,3\n", "appears twice"},
		{"fraction", "C,M,P\n1,2,0.5\n", `line 2: column P: "0.5" is not an integer`},
		{"negative", "C,M,P\n1,2,-3\n", "line 2: field P: -3 must be positive"},
		{"missing cell", "C,M\n1,\n", "line 2: field M: missing"},
		{"wrong field count", "C,M\n1,2,3\n", "wrong number of fields"},
		{"stride twice", "C,M,stride,Wstride\n1,2,1,1\n", "not both"},
		{"not a CSV", "\x00\x01\x02", "column"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.csv), "n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
