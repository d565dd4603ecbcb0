package arch

import "github.com/accelopt/accelopt/workload"

// Fixed parts of the Eyeriss template (those of the golden
// eyeriss_int16_14x12 architecture).
const (
	eyerissGLBBlock     = 4  // shared_glb words per row (64-bit rows at 16-bit words)
	eyerissDRAMBlock    = 4  // DRAM words per access
	eyerissGLBBandwidth = 16 // shared_glb read and write words/cycle
	eyerissPEBandwidth  = 2  // spad read and write words/cycle
)

// EyerissParams are the variables of the Eyeriss-like template. Depths are
// in rows: one word per row in the spads, eyerissGLBBlock (4) words per row
// in shared_glb.
type EyerissParams struct {
	PEX, PEY         int // PE array columns (X) and rows (Y)
	IfmapSpadDepth   int // per-PE input scratchpad (keeps Inputs)
	WeightsSpadDepth int // per-PE weight scratchpad (keeps Weights)
	PsumSpadDepth    int // per-PE partial-sum scratchpad (keeps Outputs)
	GLBDepth         int // shared global buffer rows (keeps Inputs and Outputs)
	WordBits         int
	ClockGHz         float64
}

// DefaultEyeriss returns the parameters of the golden eyeriss_int16_14x12
// design: 14x12 PEs, spads of 12/192/16 words, a 16384x64-bit global buffer,
// 16-bit words, 1 GHz.
func DefaultEyeriss() EyerissParams {
	return EyerissParams{PEX: 14, PEY: 12, IfmapSpadDepth: 12, WeightsSpadDepth: 192,
		PsumSpadDepth: 16, GLBDepth: 16384, WordBits: 16, ClockGHz: 1}
}

func (p *EyerissParams) fields() []paramField {
	return []paramField{
		{key: "pe_x", i: &p.PEX, lo: 1, hi: maxPEDim},
		{key: "pe_y", i: &p.PEY, lo: 1, hi: maxPEDim},
		{key: "ifmap_spad_depth", i: &p.IfmapSpadDepth, lo: 1, hi: maxDepth},
		{key: "weights_spad_depth", i: &p.WeightsSpadDepth, lo: 1, hi: maxDepth},
		{key: "psum_spad_depth", i: &p.PsumSpadDepth, lo: 1, hi: maxDepth},
		{key: "glb_depth", i: &p.GLBDepth, lo: 1, hi: maxDepth},
		{key: "word_bits", i: &p.WordBits, lo: 1, hi: maxWordBits},
		{key: "clock_ghz", f: &p.ClockGHz},
	}
}

// Validate checks the parameters' ranges.
func (p EyerissParams) Validate() error { return checkFields("eyeriss", p.fields()) }

// Eyeriss builds the Eyeriss-like template: the golden eyeriss_int16_14x12
// architecture without its DummyBuffer level (shared_glb fans out to the PE
// array directly, PEX on X and PEY on Y). Levels, innermost first:
// psum_spad (Outputs), weights_spad (Weights), ifmap_spad (Inputs), all
// register files with 2 words/cycle; shared_glb (SRAM, Inputs and Outputs,
// 16 words/cycle); DRAM (LPDDR4, all data spaces); one WordBits-wide intmac
// per PE. Energies and areas come from the built-in 45 nm model.
func Eyeriss(p EyerissParams) (*Arch, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pes := p.PEX * p.PEY
	spad := func(name string, depth int, ds workload.DataSpace) levelSpec {
		return levelSpec{name: name, kind: KindRegFile, instances: pes, meshX: p.PEX, meshY: p.PEY,
			depth: int64(depth), wordBits: p.WordBits, block: 1, bandwidth: eyerissPEBandwidth, keep: keeps(ds)}
	}
	specs := []levelSpec{ // outermost first
		{name: "DRAM", kind: KindDRAM, instances: 1, meshX: 1, meshY: 1, wordBits: p.WordBits,
			block: eyerissDRAMBlock, keep: keeps(workload.Weights, workload.Inputs, workload.Outputs)},
		{name: "shared_glb", kind: KindSRAM, instances: 1, meshX: 1, meshY: 1, depth: int64(p.GLBDepth),
			wordBits: p.WordBits, block: eyerissGLBBlock, bandwidth: eyerissGLBBandwidth,
			keep: keeps(workload.Inputs, workload.Outputs)},
		spad("ifmap_spad", p.IfmapSpadDepth, workload.Inputs),
		spad("weights_spad", p.WeightsSpadDepth, workload.Weights),
		spad("psum_spad", p.PsumSpadDepth, workload.Outputs),
	}
	return assemble("eyeriss", specs, macLevel(pes, p.PEX, p.PEY, p.WordBits), p.ClockGHz)
}
