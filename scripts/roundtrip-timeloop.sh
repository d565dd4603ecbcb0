#!/usr/bin/env bash
# Round trip against timeloop-model: co-optimize every zoo network on both
# templates for latency, energy and EDP (short searches, as TestRoundTripZoo
# does), run timeloop-model on every emitted layer, and compare Timeloop's
# stats with accelopt's evaluator (`accelopt goldens`, which reads the stats).
# TestRoundTripZoo already checks result.json against accelopt's evaluator
# on the same files, so this closes the loop result.json = eval = Timeloop.
#
# usage: TIMELOOP_MODEL=/path/to/timeloop-model [TIMELOOP_LIB=dir] [SEED=n] scripts/roundtrip-timeloop.sh [WORKDIR]
# (timeloop-model is built by the developer; it is never part of the project.)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TIMELOOP_MODEL:?set TIMELOOP_MODEL to a timeloop-model v3.0.3 binary}"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/runs" "$work/cases"
go build -o "$work/accelopt" ./cmd/accelopt
for net in $("$work/accelopt" zoo | tail -n +2 | cut -d" " -f1); do
  for tp in eyeriss simba; do
    for obj in latency energy edp; do
      run="$work/runs/${net}_${tp}_${obj}"
      "$work/accelopt" optimize --network "$net" --template "$tp" --objective "$obj" \
        --rounds 1 --starts 1 --nlp-starts 0 --seed "${SEED:-1}" --quiet --out "$run" >/dev/null
      for p in "$run"/timeloop/*.problem.yaml; do
        base="$(basename "$p" .problem.yaml)"
        c="$work/cases/${net}_${tp}_${obj}__${base}"
        mkdir -p "$c"
        cp "$run"/timeloop/{arch,ERT,ART}.yaml "$c/"
        cp "$p" "$c/problem.yaml"
        cp "$run/timeloop/$base.map.yaml" "$c/map.yaml"
        # A clean environment: every TIMELOOP_* default applies.
        (cd "$c" && env -i LD_LIBRARY_PATH="${TIMELOOP_LIB:-}" \
          "$TIMELOOP_MODEL" arch.yaml problem.yaml map.yaml ERT.yaml ART.yaml >/dev/null 2>&1) ||
          echo "timeloop-model failed on $c" >&2
      done
    done
  done
done
echo "$(ls "$work/cases" | wc -l) layers emitted under $work/cases"
"$work/accelopt" goldens --show 20 "$work/cases"
