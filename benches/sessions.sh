#!/usr/bin/env bash
# The engine against the ideal acceptor (examples/ideal_acceptor.rs: one epoll thread,
# framing only, no store) under the same client, for 1, 10, 100 and 1,000 sessions,
# interleaved: PERFORMANCE.md's T10/T11 (aggregate throughput, Logon time) and T7
# (open-loop tail at a fixed rate). The example acceptor runs with its persistent
# store on and logging off, from a fresh storage folder each run. "threads" is
# the ideal acceptor with a thread per connection (`--threads`), as the engine
# has a thread per session: ideal→threads is what that design costs by itself,
# threads→fixengine what the engine's work per message costs.
#
# Stores are kept until the script ends: deleting one run's thousands of files just
# before the next run creates its own makes ext4 scan the recently deleted inodes
# on every create (`recently_deleted` took 60 % of the CPU in a 1,000-session Logon
# burst). --store-root puts them on another file system, a freshly made one for
# the Logon time of first-ever Logons without that history. They take about
# 0.5 GB per repetition (a window run logs 400,000 reports), removed at the end.
#
#   benches/sessions.sh                       # 5 repetitions, 1/10/100/1000 sessions
#   benches/sessions.sh --repeat 3 --sessions "100 1000" --no-build
#   benches/sessions.sh --rate-only           # only the open-loop runs (T7)
#   benches/sessions.sh --store-root /mnt/fresh --sessions 1000
#   benches/sessions.sh --no-threads          # without the threaded ideal
#   benches/sessions.sh --rate-only --rate 100000 --sessions "1 100 1000"
#
# Placement: servers on CPU 0, the client on CPU 1, busy-polling (like
# ../shared/bench/compare.sh's "split"). Prints one line per run and, at the end,
# the medians with the engine/ideal and engine/threads ratios; every JSON line goes
# to $OUT/results.jsonl.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
REPEAT=5 BUILD=1 SESSIONS="1 10 100 1000" WINDOW_RUNS=1 RATE_RUNS=1 RATE=10000 STORE_ROOT=
SERVERS="ideal threads fixengine"
while [ $# -gt 0 ]; do
  case $1 in
    --repeat) REPEAT=$2; shift 2 ;;
    --sessions) SESSIONS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --rate-only) WINDOW_RUNS=0; shift ;;
    --window-only) RATE_RUNS=0; shift ;;
    --store-root) STORE_ROOT=$(cd "$2" && pwd); shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --no-threads) SERVERS="ideal fixengine"; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "sessions.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$BUILD" = 1 ]; then
  (cd "$HERE" && cargo build --release --example loadgen --example acceptor --example ideal_acceptor)
fi
EX=$CARGO_TARGET_DIR/release/examples
OUT=$(mktemp -d /tmp/fixengine-sessions.XXXXXX)
STORES=$(mktemp -d "${STORE_ROOT:-$OUT}/stores.XXXXXX")
PID= RUN=0
cleanup() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$STORES"
}
trap cleanup EXIT

# shellcheck source=benches/ports.sh
. "$HERE/benches/ports.sh"
start() { # server port
  RUN=$((RUN + 1))
  case $1 in
    ideal) taskset -c 0 "$EX/ideal_acceptor" --port "$2" >"$OUT/server.log" 2>&1 & ;;
    threads) taskset -c 0 "$EX/ideal_acceptor" --port "$2" --threads >"$OUT/server.log" 2>&1 & ;;
    fixengine) (cd "$OUT" && RUST_LOG=error exec taskset -c 0 "$EX/acceptor" --port "$2" \
      --unregistered --storage "$STORES/$RUN" </dev/null >"$OUT/server.log" 2>&1) & ;;
  esac
  PID=$!
  wait_listen "$2" 5 && return 0
  echo "sessions.sh: $1 did not start" >&2; cat "$OUT/server.log" >&2; exit 1
}
stop() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; }

run() { # server case loadgen-args...
  local server=$1 case=$2 port json
  shift 2
  port=$(free_port)
  start "$server" "$port"
  json=$(taskset -c 1 "$EX/loadgen" --addr "127.0.0.1:$port" --spin --quiet "$@" | tail -n 1) || true
  stop
  echo "$json" | sed "s|^{|{\"server\":\"$server\",\"case\":\"$case\",|" >>"$OUT/results.jsonl"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print("%-9s %-12s ok=%-5s logon %7.1f ms  %9.0f ERs/s  p50 %8.1f  p99 %8.1f  p99.9 %8.1f us  %s" % (
    sys.argv[2], sys.argv[3], d.get("ok"), d.get("logon_ms", 0), d.get("execs_per_s", 0),
    d.get("lat_p50_us", 0), d.get("lat_p99_us", 0), d.get("lat_p999_us", 0), d.get("error", "")))
' "$json" "$server" "$case" 2>/dev/null || echo "$server $case: no JSON ($json)"
}

for ((rep = 1; rep <= REPEAT; rep++)); do
  echo "--- repetition $rep of $REPEAT"
  for k in $SESSIONS; do
    # The same number of orders in flight per session up to 100 sessions; at 1,000
    # a smaller window keeps the total in flight (and the client's buffers) sane.
    if [ "$k" -ge 1000 ]; then w=(--window 20 --batch 5 --count 400000); else
      w=(--window 100 --batch 25 --count 400000); fi
    for server in $SERVERS; do
      [ "$WINDOW_RUNS" = 1 ] && run "$server" "window/$k" --mode window --sessions "$k" \
        --warmup $((k * 20)) "${w[@]}"
      [ "$RATE_RUNS" = 1 ] && run "$server" "rate$RATE/$k" --mode rate \
        --rate "$RATE" --sessions "$k" --count $((RATE * 5)) --warmup $((k * 20 > 2000 ? k * 20 : 2000))
    done
  done
done

python3 - "$OUT/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cases = []
for r in rows:
    if r["case"] not in cases:
        cases.append(r["case"])
def med(case, server, key):
    v = [r.get(key, 0) for r in rows if r["case"] == case and r["server"] == server and r.get("ok")]
    return (statistics.median(v), len(v)) if v else (float("nan"), 0)
servers = ["ideal"] + (["threads"] if any(r["server"] == "threads" for r in rows) else []) + ["fixengine"]
print("\nmedians (n = clean runs)   " + "".join("%18s" % s for s in servers)
      + "   fixengine/ideal" + ("  fixengine/threads" if "threads" in servers else ""))
for c in cases:
    if c.startswith("window"):
        keys = [("execs_per_s", "ERs/s", 0), ("logon_ms", "logon ms", 1)]
    else:
        keys = [("lat_p50_us", "p50 us", 1), ("lat_p99_us", "p99 us", 1), ("lat_p999_us", "p99.9 us", 1)]
    for key, label, prec in keys:
        m = {s: med(c, s, key) for s in servers}
        line = "%-14s %-10s" % (c, label) + "".join("%14.*f (%d)" % (prec, m[s][0], m[s][1]) for s in servers)
        ratio = lambda a, b: b / a if a else float("nan")
        line += "   %15.2f" % ratio(m["ideal"][0], m["fixengine"][0])
        if "threads" in servers:
            line += "   %17.2f" % ratio(m["threads"][0], m["fixengine"][0])
        print(line)
EOF
echo "results: $OUT/results.jsonl"
