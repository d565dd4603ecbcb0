package arch

import (
	"fmt"
	"math"
)

// Built-in 45 nm technology model.
//
// Every function here is smooth in depth (rows) and width (bits) so that an
// optimizer can differentiate it; the derivatives with respect to ln(depth)
// are returned alongside the values. The coefficients are fitted to, or taken
// from, published Accelergy / CACTI / Aladdin numbers; docs/TECHMODEL.md lists
// every source point with the fitted value and the error.
//
// Sources (abbreviations used in the comments below):
//   - [EYE] goldens eyeriss_int16_14x12 ERT/ART: Accelergy v0.3 output for
//     the 2020 ISPASS tutorial of Accelergy-Project/timeloop-accelergy-exercises
//     (per the goldens' README, its timeloop+accelergy ref-output/int16 tables;
//     45 nm; CACTI for SRAM, Aladdin tables for regfile and intmac).
//   - [ISP] same tutorial, accelergy/01_primitive_architecture_ERT,
//     03_compound_architecture and 04_eyeriss_like ref-output ERT/ART
//     (45 nm, same plug-in versions as [EYE]).
//   - [ALD] Aladdin tables of the Accelergy Aladdin plug-in
//     (tanner-andrulis/accelergy-aladdin-plug-in data/*.csv, 5 ns rows, the
//     plug-in's default latency): reg 0.009 pJ and 5.98 um^2 per bit,
//     32-bit comparator 0.029015 pJ and 70 um^2, 32-bit adder 0.0857 pJ
//     (idle 0.0119 pJ) and 179 um^2; its regfile model is
//     width*reg + depth*comparator(ceil(log2 depth) bits).
//   - [SWS] goldens simple_ws / simple_os ERT/ART (Accelergy v0.4 output of
//     the timeloop-accelergy-exercises example_designs, 45 nm).
//   - [CACTI-PI] Accelergy-Project/accelergy-cacti-plug-in cacti_wrapper.py,
//     DRAM type2energy: LPDDR4 8 pJ/bit.

// Register file (Accelergy smartbuffer_RF = Aladdin regfile + two 16-bit
// address-generator adders). Energy and area per block access / instance:
//
//	E(d, w) = rfBitEnergy*w + rfCmpEnergy/32 * d*(log2 d + rfDelta) + rfAGEnergy
//	A(d, w) = rfBitArea*w   + rfCmpArea/32   * d*(log2 d + rfDelta) + rfAGArea
//
// i.e. [ALD]'s model with ceil(log2 d) replaced by the smooth log2(d)+rfDelta.
const (
	rfBitEnergy = 0.009    // pJ per bit: [ALD] reg.csv, dynamic energy at 5 ns
	rfCmpEnergy = 0.029015 // pJ per 32-bit comparator: [ALD] comparator.csv at 5 ns
	rfBitArea   = 5.98     // um^2 per bit: [ALD] reg.csv
	rfCmpArea   = 70.0     // um^2 per 32-bit comparator: [ALD] comparator.csv at 5 ns
	// Address generation of smartbuffer_RF/_SRAM: one 16-bit adder adds and
	// one idles per access ([ALD] adder.csv at 5 ns: (0.0857+0.0119)*16/32);
	// two 16-bit adders of 179*16/32 um^2 each. This is what [EYE]'s spads
	// show over the bare regfile (e.g. psum_spad 0.251 vs DummyBuffer 0.202
	// pJ, 414.68 vs 235.68 um^2, both 16x16).
	rfAGEnergy = 0.0488
	rfAGArea   = 179.0
	// rfDelta is the only fitted coefficient of the register-file model:
	// least squares of relative error over the 7 energy and 7 area points
	// of [EYE] (ifmap/psum/weights spads, DummyBuffer), [ISP] (24x16 regfile
	// and smartbuffer_RF) and [SWS] (1x16 register).
	rfDelta = 0.2790997258247243
)

// SRAM (Accelergy smartbuffer_SRAM = CACTI SRAM + address generators), a
// power law fitted by least squares in log space to five 45 nm CACTI points
// of the Accelergy v0.3 plug-ins: [ISP] 1024x32 (plain SRAM, 1 bank; the
// address-generator cost rfAGEnergy/rfAGArea added), [ISP] 1024x32 (4 banks),
// [ISP] 1024x64 (2 banks), [ISP] 12800x64 (25 banks) and [EYE] 16384x64
// (32 banks). Bank counts are not modelled.
//
//	X(d, w) = k * (w/64)^a * (d/1024)^b
const (
	sramReadK, sramReadA, sramReadB    = 10.313071535496224, 0.9517583934843924, 0.72730328994906224 // pJ per read
	sramWriteK, sramWriteA, sramWriteB = 11.382765432479612, 1.0337967305005007, 0.69509536688943641 // pJ per write
	sramAreaK, sramAreaA, sramAreaB    = 77355.588517222393, 1.1824741538581922, 0.98994891898048476 // um^2
)

// DRAM energy per bit accessed: [CACTI-PI] LPDDR4 8 pJ/bit; [EYE] and [SWS]
// both price a 64-bit LPDDR4 access at 512 pJ. DRAM area is not counted (0,
// as in [SWS]).
const dramEnergyPerBit = 8.0

// MAC (integer multiply-accumulate), a power law in the word width through
// the two published points: 16 bit 2.2 pJ / 1239.5 um^2 ([EYE] intmac
// mac_random; = [ALD] 16-bit adder + 16x16 multiplier at 5 ns) and 8 bit
// 0.315 pJ / 417 um^2 ([SWS] intmac, 8-bit multiplier + 16-bit adder).
//
//	E(b) = macEnergy16*(b/16)^macEnergyExp, A(b) = macArea16*(b/16)^macAreaExp
const (
	macEnergy16  = 2.2
	macArea16    = 1239.5
	macEnergyExp = 2.8040797900247432 // log2(2.2/0.315)
	macAreaExp   = 1.5716389826420587 // log2(1239.5/417)
)

const invLn2 = 1.4426950408889634 // 1/ln 2

// TechLabel is the technology of the built-in model, as written to Arch.Tech.
const TechLabel = "45nm"

// MemoryKind selects the technology model of a storage level.
type MemoryKind int

// The storage kinds of the built-in technology model.
const (
	// KindSRAM is an SRAM buffer with address generation (Accelergy's
	// smartbuffer_SRAM), priced by the CACTI-fitted power law.
	KindSRAM MemoryKind = iota
	// KindRegFile is a flip-flop register file with address generation
	// (Accelergy's smartbuffer_RF), priced by the Aladdin-based model. Its
	// energy grows like depth*log(depth): use it for small buffers.
	KindRegFile
	// KindDRAM is off-chip LPDDR4 DRAM: energy proportional to the bits
	// accessed, no depth dependence, no area.
	KindDRAM
)

// String returns the Timeloop/Accelergy class used for the kind.
func (k MemoryKind) String() string {
	switch k {
	case KindSRAM:
		return "smartbuffer_SRAM"
	case KindRegFile:
		return "smartbuffer_RF"
	case KindDRAM:
		return "DRAM"
	}
	return fmt.Sprintf("MemoryKind(%d)", int(k))
}

// MemCost is the price of one storage instance: energies in pJ per block
// access (a block is the memory width), area in um^2, and the derivative of
// each with respect to ln(depth).
type MemCost struct {
	Read, Write, Area    float64
	DRead, DWrite, DArea float64 // d/d ln(depth)
}

// SRAMCost prices an SRAM of depth rows of widthBits bits (a block access
// reads or writes one row). Depth and width must be positive; they may be
// fractional (relaxed designs). Outside the fitted range (1024..16384 rows,
// 32..64 bits) the power law extrapolates.
func SRAMCost(depth, widthBits float64) MemCost {
	dn, wn := depth/1024, widthBits/64
	r := sramReadK * math.Pow(wn, sramReadA) * math.Pow(dn, sramReadB)
	w := sramWriteK * math.Pow(wn, sramWriteA) * math.Pow(dn, sramWriteB)
	a := sramAreaK * math.Pow(wn, sramAreaA) * math.Pow(dn, sramAreaB)
	return MemCost{Read: r, Write: w, Area: a,
		DRead: sramReadB * r, DWrite: sramWriteB * w, DArea: sramAreaB * a}
}

// RegFileCost prices a register file of depth rows of widthBits bits,
// including its address generators. Reads and writes cost the same. Depth
// and width must be positive.
func RegFileCost(depth, widthBits float64) MemCost {
	c := regFileBare(depth, widthBits)
	c.Read += rfAGEnergy
	c.Write += rfAGEnergy
	c.Area += rfAGArea
	return c
}

// regFileBare is the Aladdin regfile without address generators (Accelergy
// class regfile; a depth-1 instance is an Aladdin register).
func regFileBare(depth, widthBits float64) MemCost {
	l := math.Log2(depth) + rfDelta
	e := rfBitEnergy*widthBits + rfCmpEnergy/32*depth*l
	a := rfBitArea*widthBits + rfCmpArea/32*depth*l
	// d/d ln d of d*(log2 d + delta) = d*(log2 d + delta + 1/ln 2)
	g := depth * (l + invLn2)
	de := rfCmpEnergy / 32 * g
	return MemCost{Read: e, Write: e, Area: a, DRead: de, DWrite: de, DArea: rfCmpArea / 32 * g}
}

// DRAMCost prices one DRAM access of widthBits bits (block size x word bits).
// It does not depend on depth.
func DRAMCost(widthBits float64) MemCost {
	e := dramEnergyPerBit * widthBits
	return MemCost{Read: e, Write: e}
}

// MemoryCost prices a storage instance of the given kind.
func MemoryCost(kind MemoryKind, depth, widthBits float64) (MemCost, error) {
	if !(widthBits > 0) || math.IsInf(widthBits, 0) {
		return MemCost{}, fmt.Errorf("%v: width %v bits must be positive and finite", kind, widthBits)
	}
	if kind != KindDRAM && (!(depth > 0) || math.IsInf(depth, 0)) {
		return MemCost{}, fmt.Errorf("%v: depth %v must be positive and finite", kind, depth)
	}
	switch kind {
	case KindSRAM:
		return SRAMCost(depth, widthBits), nil
	case KindRegFile:
		return RegFileCost(depth, widthBits), nil
	case KindDRAM:
		return DRAMCost(widthBits), nil
	}
	return MemCost{}, fmt.Errorf("unknown memory kind %d", int(kind))
}

// MACCost returns the energy (pJ per MAC) and area (um^2) of an integer MAC
// whose multiplier inputs are wordBits wide.
func MACCost(wordBits float64) (energy, area float64) {
	b := wordBits / 16
	return macEnergy16 * math.Pow(b, macEnergyExp), macArea16 * math.Pow(b, macAreaExp)
}
