package arch

import (
	"fmt"

	"github.com/accelopt/accelopt/workload"
)

// Fixed widths of the Simba template (those of Accelergy's simba_like
// example design).
const (
	simbaGLBWidthBits  = 256 // GlobalBuffer row
	simbaDRAMWidthBits = 64  // LPDDR4 access
)

// SimbaParams are the variables of the Simba-like template. Each PE holds an
// input buffer, a weight buffer and an accumulation buffer whose rows are
// Lanes words wide (one word per MAC lane), and Lanes MACs. Depths are in
// rows.
type SimbaParams struct {
	PEX, PEY          int // PE array columns (X) and rows (Y)
	Lanes             int // MACs per PE (vector width)
	InputBufferDepth  int // PEInputBuffer rows (keeps Inputs)
	WeightBufferDepth int // PEWeightBuffer rows (keeps Weights)
	AccuBufferDepth   int // PEAccuBuffer rows (keeps Outputs)
	GLBDepth          int // GlobalBuffer rows of 256 bits (keeps Inputs and Outputs)
	WordBits          int // operand word width; must divide 64
	AccuBits          int // accumulator (PEAccuBuffer) word width
	ClockGHz          float64
}

// DefaultSimba returns a 4x4-PE, 8-lane design with the buffer shapes of
// Accelergy's simba_like example: GlobalBuffer 2048x256 bit, per PE an
// 8192x64-bit input buffer, a 4096x64-bit weight buffer and a 128-row
// accumulation buffer of 24-bit words; 8-bit operands, 1 GHz.
func DefaultSimba() SimbaParams {
	return SimbaParams{PEX: 4, PEY: 4, Lanes: 8, InputBufferDepth: 8192, WeightBufferDepth: 4096,
		AccuBufferDepth: 128, GLBDepth: 2048, WordBits: 8, AccuBits: 24, ClockGHz: 1}
}

func (p *SimbaParams) fields() []paramField {
	return []paramField{
		{key: "pe_x", i: &p.PEX, lo: 1, hi: maxPEDim},
		{key: "pe_y", i: &p.PEY, lo: 1, hi: maxPEDim},
		{key: "lanes", i: &p.Lanes, lo: 1, hi: maxLanes},
		{key: "input_buffer_depth", i: &p.InputBufferDepth, lo: 1, hi: maxDepth},
		{key: "weight_buffer_depth", i: &p.WeightBufferDepth, lo: 1, hi: maxDepth},
		{key: "accu_buffer_depth", i: &p.AccuBufferDepth, lo: 1, hi: maxDepth},
		{key: "glb_depth", i: &p.GLBDepth, lo: 1, hi: maxDepth},
		{key: "word_bits", i: &p.WordBits, lo: 1, hi: maxWordBits},
		{key: "accu_bits", i: &p.AccuBits, lo: 1, hi: maxWordBits},
		{key: "clock_ghz", f: &p.ClockGHz},
	}
}

// Validate checks the parameters' ranges, and that whole words fit the
// fixed 64-bit DRAM and 256-bit GlobalBuffer rows.
func (p SimbaParams) Validate() error {
	if err := checkFields("simba", p.fields()); err != nil {
		return err
	}
	if simbaDRAMWidthBits%p.WordBits != 0 {
		return fmt.Errorf("simba: parameter word_bits = %d: must divide %d (the DRAM and GlobalBuffer widths)", p.WordBits, simbaDRAMWidthBits)
	}
	return nil
}

// Simba builds the Simba-like template. Levels, innermost first:
// PEAccuBuffer (register file, Outputs), PEWeightBuffer (SRAM, Weights),
// PEInputBuffer (SRAM, Inputs), one of each per PE, each Lanes words per row
// and Lanes words/cycle; GlobalBuffer (SRAM, Inputs and Outputs, 256-bit
// rows, one row per cycle); DRAM (LPDDR4, 64-bit, all data spaces). The PE
// array is PEX x PEY; each PE's Lanes MACs hang below PEAccuBuffer on the Y
// axis (MAC mesh PEX x PEY*Lanes), so the innermost storage level fans out
// to Lanes MACs. Compared with the simba_like example this drops the
// per-MAC weight registers and the split into 4 weight/accumulation buffers
// per PE (one of each, Lanes wide), and prices all buffers with the built-in
// 45 nm model.
func Simba(p SimbaParams) (*Arch, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pes := p.PEX * p.PEY
	pe := func(name string, kind MemoryKind, depth, wordBits int, ds workload.DataSpace) levelSpec {
		return levelSpec{name: name, kind: kind, instances: pes, meshX: p.PEX, meshY: p.PEY,
			depth: int64(depth), wordBits: wordBits, block: p.Lanes, bandwidth: float64(p.Lanes), keep: keeps(ds)}
	}
	glbBlock := simbaGLBWidthBits / p.WordBits
	specs := []levelSpec{ // outermost first
		{name: "DRAM", kind: KindDRAM, instances: 1, meshX: 1, meshY: 1, wordBits: p.WordBits,
			block: simbaDRAMWidthBits / p.WordBits, keep: keeps(workload.Weights, workload.Inputs, workload.Outputs)},
		{name: "GlobalBuffer", kind: KindSRAM, instances: 1, meshX: 1, meshY: 1, depth: int64(p.GLBDepth),
			wordBits: p.WordBits, block: glbBlock, bandwidth: float64(glbBlock),
			keep: keeps(workload.Inputs, workload.Outputs)},
		pe("PEInputBuffer", KindSRAM, p.InputBufferDepth, p.WordBits, workload.Inputs),
		pe("PEWeightBuffer", KindSRAM, p.WeightBufferDepth, p.WordBits, workload.Weights),
		pe("PEAccuBuffer", KindRegFile, p.AccuBufferDepth, p.AccuBits, workload.Outputs),
	}
	return assemble("simba", specs, macLevel(pes*p.Lanes, p.PEX, p.PEY*p.Lanes, p.WordBits), p.ClockGHz)
}
