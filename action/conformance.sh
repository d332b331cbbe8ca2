#!/usr/bin/env bash
# Run the suite with the keys from the environment only, then write the job summary and outputs.
#   VALORA_BASE_URL, VALORA_API_KEY[_B], VALORA_READ_ONLY_KEY: read by the harness itself
#   VALORA_REPORT_DIR, VALORA_BASELINE_DIR, VALORA_PUBLIC_KEY, VALORA_ARGS (extra options)
set -uo pipefail
: "${VALORA_REPORT_DIR:?}"
args=()
if [ -f "${VALORA_BASELINE_DIR:-}/report.json" ]; then
  args+=(--baseline "$VALORA_BASELINE_DIR/report.json")
  echo "baseline: the previous run's report"
else
  echo "no baseline yet: this run records the first one"
  [ "${VALORA_FAIL_ON:-}" = regression ] && export VALORA_FAIL_ON=any  # nothing to regress from
fi
read -r -a extra <<<"${VALORA_ARGS:-}"
valora-spec conformance "${args[@]}" "${extra[@]}"
code=$?
report="$VALORA_REPORT_DIR/report.json"
if [ -n "${VALORA_PUBLIC_KEY:-}" ] && [ -f "$VALORA_REPORT_DIR/manifest.json" ]; then
  if ! valora-spec report verify "$VALORA_REPORT_DIR" --public-key "$VALORA_PUBLIC_KEY"; then
    echo "::error::the report bundle does not verify against the public key"
    code=1
  fi
fi
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
if [ -f "$VALORA_REPORT_DIR/summary.md" ]; then
  cat "$VALORA_REPORT_DIR/summary.md" >>"$summary"
else
  echo "No summary.md: the run did not get as far as writing a report (exit $code)." >>"$summary"
fi
outputs="${GITHUB_OUTPUT:-/dev/null}"
echo "exit-code=$code" >>"$outputs"
if [ -f "$report" ]; then
  python3 - "$report" >>"$outputs" <<'PY'
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"verdict={report['verdict']}")
print(f"range={report['range']['label']}")
PY
fi
exit 0  # the last step passes the verdict on, after the upload
