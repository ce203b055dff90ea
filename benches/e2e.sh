#!/usr/bin/env bash
# End-to-end load test of the example acceptor with examples/loadgen.rs, and an
# agreement check against the shared C client (../shared/bench/build/fixload): both
# clients drive the same server back to back with the same parameters, so a large
# disagreement points at a bug in one of them rather than at the server.
#
#   benches/e2e.sh                 # our acceptor (persistent store); + QuickFIX MemoryStore if built
#   benches/e2e.sh --quick         # smaller counts, 1 repetition
#   benches/e2e.sh --repeat 5 --pin
#   benches/e2e.sh --no-build --no-qf
#   benches/e2e.sh --log-ab --no-qf   # also an acceptor with MessageLog = none, side by side
#
# --pin runs every server on CPU 0 and the clients on CPU 1, busy-polling (the
# shared bench's "split" placement); without it the scheduler decides and 1-session
# pingpong is bimodal on this VM (see ../shared/bench/README.md).
# Output: one line per client run (server, case, client, p50/p99 µs, orders/s, ERs/s)
# and every JSON line in $OUT/results.jsonl. Servers are stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${FIXLOAD_DIR:-$HERE/../shared/bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
REPEAT=3 BUILD=1 QF=1 PIN=0 PP_N=20000 TP_N=200000 WARM=2000 RATE=10000 LOG_AB=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) REPEAT=1 PP_N=5000 TP_N=50000 WARM=500; shift ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --pin) PIN=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --no-qf) QF=0; shift ;;
    --log-ab) LOG_AB=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$BUILD" = 1 ]; then
  (cd "$HERE" && cargo build --release --example loadgen --example acceptor)
fi
EX=$CARGO_TARGET_DIR/release/examples
FIXLOAD=$BENCH/build/fixload
[ -x "$FIXLOAD" ] || { echo "e2e.sh: $FIXLOAD missing: agreement check skipped" >&2; FIXLOAD=; }
OUT=$(mktemp -d /tmp/fixengine-e2e.XXXXXX)
SRV_PIN=() CLI_PIN=() SPIN=()
if [ "$PIN" = 1 ]; then SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1) SPIN=(--spin); fi

PIDS=()
# The acceptor's store (several hundred MB after a full run) goes; the results stay.
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$OUT/store" "$OUT/store-nolog"
}
trap cleanup EXIT

# shellcheck source=benches/ports.sh
. "$HERE/benches/ports.sh"

NAMES=() PORTS=()
port=$(free_port)
(cd "$OUT" && RUST_LOG=warn exec "${SRV_PIN[@]}" "$EX/acceptor" --port "$port" --unregistered \
  --storage "$OUT/store" </dev/null >"$OUT/acceptor.log" 2>&1) &
PIDS+=($!)
wait_listen "$port" 20 || { echo "e2e.sh: acceptor did not start" >&2; cat "$OUT/acceptor.log"; exit 1; }
NAMES+=(fixengine) PORTS+=("$port")
if [ "$LOG_AB" = 1 ]; then
  # The same acceptor with its message log off: what the log costs, measured
  # back to back with the same clients.
  printf 'Session.Default.MessageLog = none\n' >"$OUT/nolog.properties"
  port=$(free_port)
  (cd "$OUT" && RUST_LOG=warn exec "${SRV_PIN[@]}" "$EX/acceptor" --config "$OUT/nolog.properties" \
    --port "$port" --unregistered --storage "$OUT/store-nolog" </dev/null >"$OUT/acceptor-nolog.log" 2>&1) &
  PIDS+=($!)
  wait_listen "$port" 20 || { echo "e2e.sh: acceptor (no log) did not start" >&2; cat "$OUT/acceptor-nolog.log"; exit 1; }
  NAMES+=(fixengine-nolog) PORTS+=("$port")
fi
if [ "$QF" = 1 ] && [ -x "$BENCH/build/qf_acceptor" ]; then
  port=$(free_port)
  "${SRV_PIN[@]}" "$BENCH/build/qf_acceptor" --cfg "$BENCH/acceptor.cfg" --port "$port" \
    --store memory --store-path "$OUT/qf-store" --dict "$BENCH/../conformance/spec/FIX44.xml" \
    --sessions 10 --comp-id SERVER1 --client-prefix CLIENT --single >"$OUT/qf.log" 2>&1 &
  PIDS+=($!)
  if wait_listen "$port" 20; then NAMES+=(qf-memory) PORTS+=("$port"); else cat "$OUT/qf.log" >&2; fi
fi

# One client run: server-name port client case args...; prints a line, saves the JSON.
run() {
  local name=$1 port=$2 client=$3 case=$4 json
  shift 4
  if [ "$client" = loadgen ]; then
    json=$("${CLI_PIN[@]}" "$EX/loadgen" --addr "127.0.0.1:$port" "${SPIN[@]}" --quiet "$@" | tail -n 1) || true
  else
    json=$("${CLI_PIN[@]}" "$FIXLOAD" --port "$port" "${SPIN[@]}" --quiet "$@" | tail -n 1) || true
  fi
  echo "$json" | sed "s|^{|{\"server\":\"$name\",\"case\":\"$case\",|" >>"$OUT/results.jsonl"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print("%-10s %-15s %-8s ok=%-5s p50 %9.1f  p99 %9.1f us  %9.0f orders/s %9.0f ERs/s  %s" % (
    sys.argv[2], sys.argv[3], sys.argv[4], d.get("ok"), d.get("lat_p50_us", 0),
    d.get("lat_p99_us", 0), d.get("orders_per_s", 0), d.get("execs_per_s", 0), d.get("error", "")))
' "$json" "$name" "$case" "$client" 2>/dev/null || echo "$name $case $client: no JSON ($json)"
}

for ((rep = 1; rep <= REPEAT; rep++)); do
  echo "--- repetition $rep of $REPEAT"
  for k in 1 10; do
    for s in "${!NAMES[@]}"; do
      n=${NAMES[$s]} p=${PORTS[$s]}
      [ -n "$FIXLOAD" ] && run "$n" "$p" fixload "pingpong/$k" --sessions "$k" --n "$PP_N" --warmup "$WARM"
      run "$n" "$p" loadgen "pingpong/$k" --sessions "$k" --count "$PP_N" --warmup "$WARM"
      [ -n "$FIXLOAD" ] && run "$n" "$p" fixload "window/$k" --mode throughput --sessions "$k" \
        --count "$TP_N" --warmup "$WARM" --window 100 --batch 25
      run "$n" "$p" loadgen "window/$k" --mode window --sessions "$k" --count "$TP_N" \
        --warmup "$WARM" --window 100 --batch 25
      run "$n" "$p" loadgen "rate$RATE/$k" --mode rate --rate "$RATE" --sessions "$k" \
        --count $((RATE * 3)) --warmup "$WARM"
    done
  done
done
echo "results: $OUT/results.jsonl"
