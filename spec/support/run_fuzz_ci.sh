#!/bin/sh
# A bounded fuzzing run for the test suite, reported as one TAP line.
#   sh spec/support/run_fuzz_ci.sh BIN SECONDS WORKDIR
# BIN is the libFuzzer binary (build/fuzz/fuzz_frames).  The committed seeds
# (spec/fuzz/corpus) are copied to WORKDIR/ci-corpus afresh, so every run
# starts from the same place and the committed corpus never grows.  The
# corpus is replayed first (a committed reproducer that crashes fails the
# run), then the fuzzer mutates for SECONDS.  A crash, leak, timeout or failed
# CHECK prints "not ok" with the reproducer's path; the full log is
# WORKDIR/ci.log.
BIN=${1:?usage: run_fuzz_ci.sh BIN SECONDS WORKDIR}
SECS=${2:-30}
WORK=${3:-build/fuzz}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

LOG="$WORK/ci.log"
rm -rf "$WORK/ci-corpus"
mkdir -p "$WORK/ci-corpus" "$WORK/artifacts"
cp spec/fuzz/corpus/* "$WORK/ci-corpus/"

"$BIN" -max_len=65536 -timeout=10 -print_final_stats=1 -dict=spec/fuzz/frames.dict \
  -artifact_prefix="$WORK/artifacts/" -max_total_time="$SECS" "$WORK/ci-corpus" > "$LOG" 2>&1
rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)
secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$LOG" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG" | tail -n 1)
cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9]*[a-zA-Z]*' "$LOG" | tail -n 1)

if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
  echo "ok 1 - fuzz_frames: $execs executions in ${secs:-$SECS} s, no crash"
  echo "# $rate exec/s, $cov (log: $LOG)"
  exit 0
fi
art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$LOG" | tail -n 1)
echo "not ok 1 - fuzz_frames: exit code $rc after ${execs:-?} executions; reproducer: ${art:-none} (log: $LOG)"
grep -E 'CHECK failed|cas_json_parse:|ERROR: |SUMMARY|(csrc|spec/fuzz)/[a-z_]+\.c:[0-9]+' "$LOG" |
  head -n 25 | sed 's/^/# /'
[ -n "$art" ] && echo "# replay: $BIN $art"
exit 1
