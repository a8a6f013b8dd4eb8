#!/usr/bin/env bash
# Runs harnesses of the libFuzzer build of vowifi-fuzz one after another (the machine has two
# shared cores), SECONDS each. Usage: fuzz.sh BINARY SECONDS "EXTRA LIBFUZZER FLAGS" HARNESS...
# Seeds are read from Fuzz/corpus/<harness>; what libFuzzer adds goes to .fuzz/corpus/<harness>;
# crashes / leaks / timeouts to .fuzz/artifacts/<harness>/; logs to .fuzz/logs/. Exits 1 if
# any harness found something. Every run is also appended to .fuzz/history.txt.
set -uo pipefail
bin=$1; seconds=$2; flags=$3; shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.fuzz/logs"
summary="$root/.fuzz/summary.txt"
printf '%-16s %8s %12s %8s %8s %s\n' harness seconds execs cov ft result | tee "$summary"
failed=0
for h in "$@"; do
  seeds="$root/Fuzz/corpus/$h"; work="$root/.fuzz/corpus/$h"; art="$root/.fuzz/artifacts/$h/"
  log="$root/.fuzz/logs/$h.log"
  mkdir -p "$work" "$art" "$seeds"
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: a blow-up; leaks are reported by ASan.
  # shellcheck disable=SC2086
  "$bin" "$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 \
      -artifact_prefix="$art" $flags "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ $rc -ne 0 ]; then
    failed=1
    result="FAILED (rc $rc): $(grep -m1 -E 'ERROR: |Fatal error|invariant' "$log" | cut -c1-120); see $log"
  fi
  printf '%-16s %8s %12s %8s %8s %s\n' "$h" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result" | tee -a "$summary"
  printf '%s %-16s %8s %12s %8s %8s %s\n' "$(date -u +%FT%TZ)" "$h" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result" >>"$root/.fuzz/history.txt"
done
ls -1 "$root"/.fuzz/artifacts/*/ 2>/dev/null | grep -qE 'crash-|leak-|timeout-|oom-' && echo "artefacts: $root/.fuzz/artifacts"
exit $failed
