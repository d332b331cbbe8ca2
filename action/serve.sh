#!/usr/bin/env bash
# Start the implementer's server in the background and wait until it answers GET /v1/meta.
#   VALORA_SERVER_COMMAND  the command (run by bash), VALORA_BASE_URL, VALORA_SERVER_TIMEOUT (s)
# The PID goes to $RUNNER_TEMP/valora-server.pid, its output to $RUNNER_TEMP/valora-server.log.
set -euo pipefail
: "${VALORA_SERVER_COMMAND:?}" "${VALORA_BASE_URL:?}"
tmp="${RUNNER_TEMP:-/tmp}"
timeout="${VALORA_SERVER_TIMEOUT:-60}"
# its own session, so the stop step ends the whole process group, not just this bash
setsid nohup bash -c "$VALORA_SERVER_COMMAND" >"$tmp/valora-server.log" 2>&1 &
echo $! >"$tmp/valora-server.pid"
url="${VALORA_BASE_URL%/}/v1/meta"
for _ in $(seq "$((timeout * 2))"); do
  if ! kill -0 "$(cat "$tmp/valora-server.pid")" 2>/dev/null; then
    echo "::error::the server command exited before answering; its output:"
    tail -n 50 "$tmp/valora-server.log"
    exit 1
  fi
  # any HTTP answer means it listens; the suite judges the rest
  if curl -s -o /dev/null --max-time 2 "$url"; then
    echo "server answers at $url"
    exit 0
  fi
  sleep 0.5
done
echo "::error::no answer from $url within $timeout s; the server's output:"
tail -n 50 "$tmp/valora-server.log"
exit 1
