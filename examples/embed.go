// Package examples bundles input files that let accelopt run with no
// arguments: a Timeloop Eyeriss-like int16 design (the Timeloop/Accelergy
// ISPASS-2020 exercise's arch, ERT and ART) with a ResNet-18 3x3 layer and a
// timeloop-mapper mapping for it.
package examples

import "embed"

// Files holds the bundled examples, one folder each.
//
//go:embed eyeriss_rn18/*.yaml
var Files embed.FS
