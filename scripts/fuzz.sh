#!/usr/bin/env bash
# Runs each proptest fuzz target in tests/fuzz.rs for a while, in release mode, with a
# fresh seed per round, and stops at the first failure.
#
#   scripts/fuzz.sh [MINUTES_PER_TARGET] [TARGET...]
#
# MINUTES_PER_TARGET defaults to 2. TARGETs are test names (fuzz_cql2_oracle, ...) or
# parts of them; by default every `fuzz_*` target that is not ignored (ignored ones have
# a known bug; name one to run it anyway).
# Environment: FUZZ_CASES (cases per round, default 2000), FUZZ_SHRINK_SECS (time to
# shrink a failure, default 300).
#
# The test binary is built once and then run directly, so that edits to src/ during a
# long run neither rebuild it nor count as failures. A failing case's seed is saved in
# tests/fixtures/fuzz/<target>.txt, which `cargo test` replays first from then on; the
# exit status is then 1 (2 for a usage or build problem).
set -euo pipefail

cd "$(dirname "$0")/.."

minutes="${1:-2}"
shift || true
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: $0 [MINUTES_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
export FUZZ_CASES="${FUZZ_CASES:-2000}"
export FUZZ_SHRINK_SECS="${FUZZ_SHRINK_SECS:-300}"

echo "building tests/fuzz.rs (release)..."
if ! bin=$(cargo test --release --test fuzz --no-run --message-format=json |
    grep '"name":"fuzz"' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1) ||
    [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "could not build tests/fuzz.rs" >&2
    exit 2
fi
echo "using $bin"

# The fuzz_* targets: by default those not ignored (an ignored one has a known bug and
# fails at once on its saved seed); named ones whether ignored or not.
list() {
    "$bin" --list "$@" | sed -n 's/^\(fuzz_[a-z0-9_]*\): test$/\1/p'
}
mapfile -t all < <(list)
mapfile -t ignored < <(list --ignored)
if [ "${#all[@]}" -eq 0 ]; then
    echo "no fuzz_* targets found in tests/fuzz.rs" >&2
    exit 2
fi
targets=()
if [ "$#" -eq 0 ]; then
    for t in "${all[@]}"; do
        if [[ " ${ignored[*]} " != *" $t "* ]]; then
            targets+=("$t")
        fi
    done
else
    for want in "$@"; do
        found=0
        for t in "${all[@]}"; do
            if [[ "$t" == *"$want"* ]]; then
                targets+=("$t")
                found=1
            fi
        done
        if [ "$found" -eq 0 ]; then
            echo "no target matches $want (targets: ${all[*]})" >&2
            exit 2
        fi
    done
fi

seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
log="$(mktemp -t fuzz.XXXXXX)"
trap 'rm -f "$log"' EXIT

for t in "${targets[@]}"; do
    end=$(($(date +%s) + seconds))
    rounds=0
    while [ "$(date +%s)" -lt "$end" ]; do
        # A seed of our own per round, printed, so that a round can be rerun exactly.
        seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
        rounds=$((rounds + 1))
        printf '%s: round %d, PROPTEST_RNG_SEED=%s, %s cases\n' \
            "$t" "$rounds" "$seed" "$FUZZ_CASES"
        if ! PROPTEST_RNG_SEED="$seed" "$bin" "$t" --exact --include-ignored --nocapture \
            >"$log" 2>&1; then
            cat "$log"
            echo
            echo "FAILED: $t (round $rounds, PROPTEST_RNG_SEED=$seed)"
            echo "the failing case's seed is saved in tests/fixtures/fuzz/${t#fuzz_}.txt;"
            echo "cargo test --test fuzz $t -- --include-ignored replays it first"
            exit 1
        fi
    done
    echo "$t: $rounds rounds of $FUZZ_CASES cases, no failure"
done
echo "all ${#targets[@]} targets ran for $minutes min each without a failure"
