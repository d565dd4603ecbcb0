#!/usr/bin/env bash
# Regenerates docs/RESULTS.md and docs/best-known.json: accelopt beside its
# baselines on ResNet-18, VGG-16, ResNet-50 and MobileNet-V2, the best design
# known per network, every method's distance from it and time to come within
# 2% of it, the seed spread of the default run, the NLP ablation and the time
# each method needs to reach accelopt's quality.
#
#   scripts/results.sh [--budget 20s] [--seeds 2] [--long 60s] [--default-seeds 5]
#                      [--methods LIST] [--networks LIST] [--out DIR] [--analyze-only]
#
# Per network it runs, one after another (never in parallel, so each run gets
# the whole machine), with every output under --out (default out-results):
#
#   accelopt compare --methods LIST --budget B --seeds S   -> OUT/NET/compare.json ...
#   accelopt optimize --time L                              -> OUT/NET/long/accelopt/  (--long L; 0 skips
#   accelopt compare --methods anneal --budget L --seeds 1 -> OUT/NET/long/anneal/      both long runs)
#   accelopt optimize --seed N, N = 1..D                    -> OUT/NET/default/seed-N/
#   accelopt optimize --seed N --nlp-starts 0               -> OUT/NET/nlp0/seed-N/     (--default-seeds D;
#                                                                                        0 skips both)
# then analyzes them (scripts/results, built as OUT/results-analysis: OUT/NET/analysis.md,
# OUT/summary.md, OUT/best-known.json), writes OUT/RESULTS.md and copies it to
# docs/RESULTS.md and best-known.json to docs/best-known.json (entries of
# networks not run this time are kept from the previous docs/best-known.json).
# Progress goes to stderr. --analyze-only skips the runs and rebuilds the
# page from those already in --out (with the options they were made with,
# recorded in OUT/run-info.sh).
#
# Runtime on the 2-core machine (shared with other jobs, so wall times vary by
# tens of percent), for the full set of four networks:
#   compare: 7 methods x S seeds x B per network (accelopt and weighted stop at
#            the budget or earlier), plus a few seconds of setup per run;
#   long:    2 x L per network (optimize --time L finishes its pipeline even
#            past L: in a test with L = 5s, ResNet-18 took 16 s);
#   default: 2 x D optimize runs per network; one default run (seed 1), measured
#            at a load average near 4 on the 2 cores (other agents' jobs), took
#            ResNet-18 18 s, VGG-16 32 s, ResNet-50 33 s, MobileNet-V2 52 s:
#            about 2 x 5 x 135 s = 23 min for D = 5 (less on an idle machine).
# With --budget 10s --seeds 3 --long 60s (--default-seeds 5): compare 4 x 7 x 3
# x 10 s = 14 min plus setup, long 4 x 2 x 60 s = 8 min, default runs about
# 23 min: about 45-50 minutes. The defaults (--budget 20s --seeds 2 --long 60s)
# about 55 minutes (compare 19 min). --default-seeds 0 --long 0 leaves the
# compare runs alone (the old page's grid).
set -euo pipefail

budget=20s
seeds=2
long=60s
default_seeds=5
methods=accelopt,ga,random,anneal,bo,gumbel,weighted
networks=resnet18,vgg16,resnet50,mobilenet_v2
out=out-results
analyze_only=false
args=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
	--budget) budget=$2; shift 2 ;;
	--seeds) seeds=$2; shift 2 ;;
	--long) long=$2; shift 2 ;;
	--default-seeds) default_seeds=$2; shift 2 ;;
	--methods) methods=$2; shift 2 ;;
	--networks) networks=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--analyze-only) analyze_only=true; shift ;;
	*) echo "results.sh: unknown argument $1" >&2; exit 1 ;;
	esac
done
if [ -z "$out" ]; then echo "results.sh: --out must not be empty" >&2; exit 1; fi
case "$default_seeds" in
'' | *[!0-9]*) echo "results.sh: --default-seeds wants a count, got $default_seeds" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p "$out" docs
bin="$out/accelopt"
echo "results.sh: building the analysis and accelopt" >&2
go build -o "$out/results-analysis" ./scripts/results
$analyze_only || go build -o "$bin" ./cmd/accelopt

nets=(${networks//,/ })
steps=$((${#nets[@]} * (1 + 2 * default_seeds)))
if [ "$long" != 0 ]; then steps=$((steps + 2 * ${#nets[@]})); fi
step=0
t_start=$(date +%s)
now() { date +%s.%N; }
# progress STEP-DESCRIPTION: one line on stderr with the step count and elapsed time.
progress() {
	step=$((step + 1))
	local e=$(($(date +%s) - t_start))
	printf 'results.sh: [%d/%d, %dm%02ds] %s\n' "$step" "$steps" $((e / 60)) $((e % 60)) "$*" >&2
}
# optimize DIR ARGS...: one accelopt optimize run into DIR, with its wall time
# (DIR/wall_s) and command line (DIR/command).
optimize() {
	local dir=$1
	shift
	local cmd=(accelopt optimize "$@" --out "$dir" --quiet)
	progress "${cmd[*]}"
	mkdir -p "$dir"
	local t0 t1
	t0=$(now)
	"$bin" "${cmd[@]:1}" >/dev/null
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$dir/wall_s"
	echo "${cmd[*]}" >"$dir/command"
	printf 'results.sh:     %s ms in %s s\n' "$(grep -m1 '"latency_ms"' "$dir/result.json" | tr -dc '0-9.')" "$(cat "$dir/wall_s")" >&2
}

# run_all makes every run of the generation and records how (OUT/run-info.sh).
run_all() {
	load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
	started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	rm -f "$out/best-known.prev.json"
	if [ -f docs/best-known.json ]; then cp docs/best-known.json "$out/best-known.prev.json"; fi
	cmds=()
	for net in "${nets[@]}"; do
		cmd=(accelopt compare --network "$net" --methods "$methods" --budget "$budget" --seeds "$seeds" --out "$out/$net" --quiet)
		cmds+=("${cmd[*]}")
		progress "${cmd[*]}"
		"$bin" "${cmd[@]:1}" >/dev/null
		if [ "$long" != 0 ]; then
			rm -rf "$out/$net/long"
			optimize "$out/$net/long/accelopt" --network "$net" --time "$long"
			cmds+=("$(cat "$out/$net/long/accelopt/command")")
			cmd=(accelopt compare --network "$net" --methods anneal --budget "$long" --seeds 1 --out "$out/$net/long/anneal" --quiet)
			cmds+=("${cmd[*]}")
			progress "${cmd[*]}"
			"$bin" "${cmd[@]:1}" >/dev/null
		fi
		rm -rf "$out/$net/default" "$out/$net/nlp0"
		for s in $(seq 1 "$default_seeds"); do
			optimize "$out/$net/default/seed-$s" --network "$net" --seed "$s"
			optimize "$out/$net/nlp0/seed-$s" --network "$net" --seed "$s" --nlp-starts 0
		done
		if [ "$default_seeds" -gt 0 ]; then
			cmds+=("accelopt optimize --network $net --seed N --out $out/$net/default/seed-N --quiet                 # N = 1..$default_seeds")
			cmds+=("accelopt optimize --network $net --seed N --nlp-starts 0 --out $out/$net/nlp0/seed-N --quiet   # N = 1..$default_seeds")
		fi
	done
	load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
	finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	declare -p args budget seeds long default_seeds methods networks started finished load_before load_after cmds >"$out/run-info.sh"
}

if $analyze_only; then
	if [ ! -f "$out/run-info.sh" ]; then echo "results.sh: --analyze-only: no $out/run-info.sh (run the script first)" >&2; exit 1; fi
	source "$out/run-info.sh"
	nets=(${networks//,/ })
else
	run_all
fi

echo "results.sh: analyzing" >&2
"$out/results-analysis" -out "$out" -networks "$networks" -prev "$out/best-known.prev.json" -generated "$finished"

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)
{
	cat <<HEAD
# Results: accelopt beside its baselines

Generated by \`scripts/results.sh ${args[*]}\` ($started to $finished;
compare budget $budget, $seeds seeds; long runs $long; $default_seeds seeds of the default run).
Do not edit by hand: rerun the script. The best design known per network is also in
\`docs/best-known.json\`.

Each network's first table compares accelopt with six baselines that co-optimize the same
variables (the eyeriss template's PE array and buffer depths, and every layer's mapping)
for the same objective (latency) under the same budgets (power <= 0.6 W, area <= 2.5 mm²),
scored by the same evaluator (the matrix model in exact mode, equal to \`eval.Layer\` at
integer points; every reported design is re-evaluated with \`eval.Layer\`):

- **accelopt**: \`search.CoOptimize\` as \`accelopt optimize --time BUDGET\` runs it: the
  default run (NLP stage, hardware descents with every layer's mapping search, the final
  stages: polish, certification, the buffer and array variants, the frugal step; the
  descents stop early when the budget's end nears), then, with the time left less what
  the final stages took, an iterated local search from its best design (mapping
  re-search, hardware kicks) and the final stages again when that finds a better design.
  The budget is a hard deadline here: what is not finished by then is cut. With a budget
  under 5 s (\`compare\`'s rule, measured when the run starts) it uses lighter settings
  (8 local-search starts, 6 hardware rounds, NLP 4 starts × 150 iterations) instead of
  \`optimize\`'s defaults (NLP 8 × 300, 16 starts, up to 30 hardware rounds).
- **ga**: genetic algorithm after GAMMA/DiGamma (population 100, elites 5%, parents 50%,
  10% random injections, GAMMA's crossover/mutation/reorder operators, hardware genes),
  run until the budget.
- **random**: random legal designs until the budget.
- **anneal**: simulated annealing over the local search's neighbour moves and hardware steps.
- **bo**: Bayesian optimization (Gaussian process, expected improvement) over the hardware
  parameters and the mapping score's energy weight; mappings by a small local search.
- **gumbel**: Gumbel-softmax differentiable search over each prime factor's level on the
  matrix model's relaxed gradients.
- **weighted**: accelopt's pipeline minimizing latency/L0 + w·power/P0 instead of the
  constrained form, w tuned between runs (up to 4 runs, sharing the budget).

Every method runs with the wall-time budget of **$budget per run**, with **$seeds seeds**
(1..$seeds); weighted may stop earlier. The first two tables per network give medians over
seeds, each column separately: "feasible seeds" counts the runs whose design meets every
budget; latency, power, area, energy and EDP are those of each run's final design;
"runtime" is the wall time the method used; "time to 1% of own best" is when it first held
a feasible design within 1% of its own final design; "evaluations" counts layer mappings
scored on one hardware point. Ratios are baseline / accelopt (above 1: accelopt lower, i.e.
better). A wall-time budget makes results depend on the machine and its load: with
\`--budget 0 --budget-evals N\` the baselines are deterministic for a seed.

The sections after them, per network:

- **Best design known**: the lowest feasible latency of any run of this generation (the
  compare runs; one long run of accelopt, \`accelopt optimize --time $long\`, and one of
  annealing, \`compare --methods anneal --budget $long --seeds 1\`; the default and
  \`--nlp-starts 0\` runs), with the method, seed and hardware that found it.
- **Distance from the best known, time to within 2% of it**, one row per method and run:
  "runs (feasible)"; "best" is the lowest feasible final latency of those runs; "median final
  latency" the median over runs (an infeasible run counts as worse than any feasible one,
  so "-" when half or more are infeasible); "median / best known" its ratio to the best
  design known; "runs within 2%" the runs that ever held a feasible design with latency
  <= 1.02 × best known; "time to within 2%" the median over runs of when they first did,
  from the runs' best-so-far traces ("never": the median run did not within its budget;
  "-": \`optimize\` runs record no trace).
- **Seed spread of the default run, NLP ablation**: \`accelopt optimize --network NET
  --seed N\` (no other flags but \`--out\` and \`--quiet\`) for N = 1..$default_seeds, and the
  same with \`--nlp-starts 0\` (no NLP stage): each run's final latency, its ratio to the
  best known, the wall time of the whole process, and whether the NLP stage's rounded
  proposal was chosen as the hardware search's start (\`search.nlp_chosen\` in
  result.json); "no NLP / default" divides the two latencies of a seed; the last rows give
  the medians and max/min over seeds. The ablation is paired: every mapping search's seed
  depends on the run's seed and the hardware point, not on the searches made before, so
  a seed's two runs differ only where the stage changed the run's course (its proposal
  chosen as the start), and a run whose proposal lost equals the run without the stage.
- **Time to accelopt's quality** (the paper's "faster optimization" claim as a measured
  ratio): the quality Q is the median final latency of the default run over its seeds (for
  an even count the higher middle value, so that most default runs reach it). For
  each method and run, "runs reaching Q" counts the runs that ever held a feasible design
  with latency <= Q and "time to Q" is the median over runs of when they first did (from
  the traces; for the default run, which stops by itself and returns its design at the
  end, its wall time when its final design reaches Q); "not within budget" when the median
  run never did, with "(> T)" when most runs did not, T being the shortest runtime among
  them (a lower bound). The two ratios divide a method's time by accelopt's default run's
  and by accelopt's time to Q in the compare runs (same harness and timing as the
  baselines); above 1 means accelopt was faster.

## Machine

- CPU: $cpu ($(nproc) cores visible)
- $(go version)
- OS: $(uname -srm)
- Load average (1, 5, 15 min) before: $load_before; after: $load_after. The machine was
  shared with other jobs (compilers, tests) while this ran, so wall-time numbers are noisy.

## Commands

\`\`\`
HEAD
	for c in "${cmds[@]}"; do echo "$c"; done
	echo '```'
	cat <<SUM

## Summary across networks

"best known" and "found by": the best design known (method, seed, run); "default run":
\`accelopt optimize --network NET --seed N\`, N = 1..$default_seeds, its median latency, that
median over the best known, max/min latency over the seeds and the median wall time;
"\`--nlp-starts 0\` median / default median": above 1 means the NLP stage helped; "NLP
proposal chosen": the seeds on which it was; "fastest baseline to accelopt's quality":
the baseline run with the shortest median time to Q (see above) and its ratio to accelopt's
default run.

SUM
	cat "$out/summary.md"
	for net in "${nets[@]}"; do
		echo
		echo "## $net"
		echo
		cat "$out/$net/compare.md"
		echo
		echo "Convergence plot: \`$out/$net/convergence.svg\` (not committed; rerun to produce)."
		echo
		cat "$out/$net/analysis.md"
	done
	if [ -f docs/RESULTS.notes.md ]; then
		echo
		cat docs/RESULTS.notes.md
	fi
} >"$out/RESULTS.md"
cp "$out/RESULTS.md" docs/RESULTS.md
cp "$out/best-known.json" docs/best-known.json
echo "results.sh: wrote $out/RESULTS.md, docs/RESULTS.md and docs/best-known.json ($(($(date +%s) - t_start)) s)" >&2
