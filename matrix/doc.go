// Package matrix is accelopt's batched, differentiable cost model: it
// evaluates a batch of B candidate designs (layer, hardware vector of a
// template, mapping) at once and returns per candidate cycles, energy (pJ),
// power (W at the template's clock), area (um^2), capacity and fan-out
// slack per level and, in Relaxed mode, the gradient of a chosen objective
// (and of every constraint) with respect to the log temporal factors, log
// spatial factors and log hardware sizes.
//
// # Formulation
//
// Candidates are stored as flat arrays (Batch): factors T[b][l][d] and
// S[b][l][d], loop orders, keep masks and hardware vectors. Per candidate
// the model computes, with the data-space relevance matrix A (3 x 8,
// relMask):
//
//   - tile extents ext[l][d] = prod_{l' <= l} T[l'][d]*S[l'][d] (a
//     cumulative product over levels, i.e. a lower-triangular ones matrix
//     applied in log space);
//   - tile sizes: Weights and Outputs prod_{d in A} ext, Inputs
//     N*G*C*((P'-1)*Wstride+(R'-1)*Wdilation+1)*((Q'-1)*Hstride+(S'-1)*Hdilation+1);
//   - fills of a kept level's tile (Timeloop's delta analysis in closed
//     form): for Weights and Outputs size * E_above / run, where E_above is
//     the product of all temporal factors above the level and run the
//     product of the innermost run of irrelevant loops above it; for Inputs
//     size*E_above minus, for each loop j above the tile (innermost first,
//     factors >= 2 only) whose translation T_j = v_j - sum_{i<j} v_i equals
//     that of the innermost loop v_1, N_j*overlap(T_j), with
//     N_j = (e_j - 1) * prod_{i after j} e_i. This is exactly what Timeloop's
//     "reset on stride change" delta rule sums to (the innermost loop is
//     always compared with its own translation; every other visit is
//     compared with v_1), and it covers the irrelevant-run reuse (T_j = 0),
//     the sliding-window halo of the innermost loop, and the rare
//     coincidences of P/R or Q/S translations;
//   - multicast: distinct spatial translations per data space (the product
//     of relevant spatial factors; for Inputs, two spatial loops on one
//     sliding coordinate give sa*sb - max(0, sa-b')*max(0, sb-a') distinct
//     offsets, a', b' their coprime strides); reads of a kept level are the
//     product of those counts over the level and the bypassed levels below
//     it times the fills of the next kept level below;
//   - Outputs first-read elision with partition sizes, per-block energy,
//     utilized instances, and cycles = max(compute, counts/bandwidth);
//   - inter-PE link transfers (Timeloop's default): in Exact mode the
//     shared rule of internal/deltas runs per fan-out and data space where
//     a carry translation lies within the fan-out's neighbour span and can
//     lower its multicast groups, and the counts of that data space are
//     rebuilt as the evaluator builds them (parent accesses after links,
//     rescaled through bypassed levels; a child's fills and reads plus the
//     link words over its instances). In Relaxed mode the counts are scaled
//     by the ratios with/without links at the rounded point (constants of
//     the current piece).
//
// # Exact and relaxed modes
//
// In Exact mode (integer designs) the model reproduces the exact evaluator
// (package eval, Timeloop v3.0.3 semantics): on the 396 golden cases of
// every set energy agrees with Timeloop's to 5e-8 and cycles exactly (cycles
// follow timeloop-model's floating-point demand arithmetic before its
// ceil), and on 10,000 random legal eyeriss/simba designs over ResNet-18
// with random spatial orders (415 of them using link transfers) energy
// equals eval.Layer's and cycles agree to 1e-5. Relaxed mode replaces ceil(count/block) by count/block and the
// max over levels by the p-norm (sum x_i^p)^(1/p), p = 1/Temperature
// (default 50), which overestimates the max by up to n^(1/p) when n terms
// tie (measured: cycles up to 2.8%, mean below 0.5%, at integer points).
//
// # Approximations and where they bite (Relaxed mode only)
//
//   - The loop structure is decided by a threshold: a factor is a loop when
//     it exceeds sqrt(2). The reuse run, the innermost loop above a tile and
//     the translation comparisons change discontinuously when a factor
//     crosses it; the model is piecewise smooth, and the gradient is that of
//     the current piece.
//   - Coincidences of translations (T_j == v_1 other than the structural
//     all-irrelevant case) are detected with a 1e-9 relative tolerance; at a
//     relaxed point near an integer point with such a coincidence (e.g. an
//     innermost P loop of factor 2 below another P loop, or R and P loops
//     with equal strides) the saving disappears, and the value jumps.
//   - max(0, .) in the halo overlap and in the multicast count of two
//     spatial loops on one Inputs coordinate are kinks; the gcd of those
//     loops' strides is taken at the rounded values and held constant.
//   - The smooth max and count/block, as above.
//   - Link transfers enter as constant ratios of the rounded point, so the
//     value jumps where rounding crosses to another integer point with a
//     different link pattern; the gradient does not see them.
//
// Hardware sizes enter through the template (Template): the PE array X and
// Y drive the fan-out of one level (and so instance counts and area), and
// each level's depth its capacity and, for technology-priced levels, its
// per-access energies and area (arch.MemoryCost, with its derivatives).
// The gradient with respect to PE X and Y comes from area only: the
// mapping's spatial factors are separate variables, tied to X and Y by the
// fan-out slack constraints.
//
// A template may have at most 16 storage levels: each worker's scratch is
// a set of fixed-size arrays (no slice headers to load in the hot loop).
package matrix
