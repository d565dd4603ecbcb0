package workload

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadCSV reads a network from CSV: a header row naming the columns, then one
// layer per row. Column names are those of the JSON form (name, type, N, C,
// M, P, Q, R, S, Wstride, Hstride, Wdilation, Hdilation, groups, count),
// matched without regard to case; K is accepted for M, G for groups, and
// stride and dilation set both directions. C and M are required; an empty
// cell or a missing column means the default (1, or an inferred type). C is
// per group and M is the total number of output channels, as in LayerRecord.
// Lines starting with '#' are comments. Repeated shapes are merged into one
// layer with a count.
func ReadCSV(r io.Reader, name string) (Network, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Network{}, errors.New("empty CSV: want a header row and one row per layer")
	}
	if err != nil {
		return Network{}, fmt.Errorf("not a layer CSV: %s", oneLine(err))
	}
	cols, err := csvColumns(header)
	if err != nil {
		return Network{}, err
	}
	net := Network{Name: name}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Network{}, fmt.Errorf("not a layer CSV: %s", oneLine(err))
		}
		line, _ := cr.FieldPos(0)
		l, err := csvLayer(cols, rec)
		if err != nil {
			return Network{}, fmt.Errorf("line %d: %w", line, err)
		}
		if l.Name == "" {
			l.Name = fmt.Sprintf("layer%d", len(net.Layers)+1)
		}
		net.Layers = append(net.Layers, l)
		if len(net.Layers) > maxDimValue {
			return Network{}, errors.New("too many layers")
		}
	}
	if len(net.Layers) == 0 {
		return Network{}, errors.New("no layers: the CSV has a header but no rows")
	}
	net.Layers = MergeRepeats(net.Layers)
	if err := checkNetwork(net); err != nil {
		return Network{}, err
	}
	return net, nil
}

// csvColumn is what one CSV column holds.
type csvColumn int

const (
	colName csvColumn = iota
	colType
	colN
	colC
	colM
	colK
	colP
	colQ
	colR
	colS
	colWstride
	colHstride
	colWdilation
	colHdilation
	colGroups
	colCount
	colStride
	colDilation
	numCSVColumns
)

// csvColumnNames holds the canonical header names, indexed by csvColumn.
func csvColumnNames() [numCSVColumns]string {
	return [numCSVColumns]string{"name", "type", "N", "C", "M", "K", "P", "Q", "R", "S",
		"Wstride", "Hstride", "Wdilation", "Hdilation", "groups", "count", "stride", "dilation"}
}

// csvColumns maps the header to columns, refusing unknown and repeated names.
func csvColumns(header []string) ([]csvColumn, error) {
	names := csvColumnNames()
	cols := make([]csvColumn, len(header))
	seen := map[csvColumn]bool{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		c := csvColumn(-1)
		for j, n := range names {
			if strings.EqualFold(h, n) {
				c = csvColumn(j)
			}
		}
		if strings.EqualFold(h, "G") {
			c = colGroups
		}
		if c < 0 {
			return nil, fmt.Errorf("header: unknown column %q (want name, type, N, C, M or K, P, Q, R, S, Wstride, Hstride, Wdilation, Hdilation, groups, count)", h)
		}
		if seen[c] {
			return nil, fmt.Errorf("header: column %q appears twice", h)
		}
		seen[c] = true
		cols[i] = c
	}
	switch {
	case !seen[colC]:
		return nil, errors.New("header: column C is missing")
	case !seen[colM] && !seen[colK]:
		return nil, errors.New("header: column M (or K) is missing")
	case seen[colM] && seen[colK]:
		return nil, errors.New("header: give column M or K, not both")
	case seen[colStride] && (seen[colWstride] || seen[colHstride]):
		return nil, errors.New("header: give stride or Wstride/Hstride, not both")
	case seen[colDilation] && (seen[colWdilation] || seen[colHdilation]):
		return nil, errors.New("header: give dilation or Wdilation/Hdilation, not both")
	}
	return cols, nil
}

// csvLayer builds the layer of one row.
func csvLayer(cols []csvColumn, rec []string) (Layer, error) {
	names := csvColumnNames()
	var in layerInput
	for i, c := range cols {
		v := strings.TrimSpace(rec[i])
		switch c {
		case colName:
			in.Name = v
			continue
		case colType:
			in.Type = v
			continue
		}
		if v == "" {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < -maxDimValue || x > maxDimValue {
			return Layer{}, fmt.Errorf("column %s: %q is not an integer", names[c], v)
		}
		p := new(recInt)
		*p = recInt(x)
		switch c {
		case colN:
			in.N = p
		case colC:
			in.C = p
		case colM, colK:
			in.M = p
		case colP:
			in.P = p
		case colQ:
			in.Q = p
		case colR:
			in.R = p
		case colS:
			in.S = p
		case colWstride:
			in.Wstride = p
		case colHstride:
			in.Hstride = p
		case colWdilation:
			in.Wdilation = p
		case colHdilation:
			in.Hdilation = p
		case colGroups:
			in.Groups = p
		case colCount:
			in.Count = p
		case colStride:
			in.Wstride, in.Hstride = p, p
		case colDilation:
			in.Wdilation, in.Hdilation = p, p
		}
	}
	l, err := in.layer()
	if err != nil {
		return Layer{}, err
	}
	return l, nil
}
