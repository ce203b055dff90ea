#!/usr/bin/env bash
# Round-trip latency of an established session while another client floods the
# engine with connections that never log on, against the same session undisturbed,
# in one run (interleaved repetitions).
#
#   benches/flood.sh [--repeat N] [--conns N] [--no-build]
#
# The example acceptor runs on CPU 0 (persistent store, logging off). On CPU 1:
# examples/loadgen (pingpong, one session, busy-polling) and, in the "flood" runs, a Python
# client that keeps N connections open (default 500), in three kinds by turn:
# idle (connected, nothing sent), a Logon that never ends (half a Logon, then
# one more byte every half second: slowloris) and half-closed (half a Logon,
# then the client shuts its sending side and only waits); whenever the engine
# closes one (LogonTimeout, here 2 s; at once beyond MaxPendingConnections,
# 1024), it opens another at once. After the last flood one more undisturbed
# run shows the engine accepts normally again. Prints p50/p99 for both cases
# and their ratios; JSON lines go to $OUT/results.jsonl.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
REPEAT=3 CONNS=500 BUILD=1
while [ $# -gt 0 ]; do
  case $1 in
    --repeat) REPEAT=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "flood.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$BUILD" = 1 ]; then
  (cd "$HERE" && cargo build --release --example loadgen --example acceptor)
fi
EX=$CARGO_TARGET_DIR/release/examples
OUT=$(mktemp -d /tmp/fixengine-flood.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$OUT/engine.properties" <<EOF
ListenPort = $PORT
ListenAddress = 127.0.0.1
StorageDirectory = $OUT/store
CreateUnregisteredAcceptorSession = true
LogonTimeout = 2000
MaxPendingConnections = 1024
EOF

RUST_LOG=error taskset -c 0 "$EX/acceptor" --config "$OUT/engine.properties" --unregistered \
  </dev/null >"$OUT/acceptor.log" 2>&1 &
ACC=$!
FLOOD=
cleanup() {
  [ -n "$FLOOD" ] && kill "$FLOOD" 2>/dev/null || true
  kill -TERM "$ACC" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2).close()" 2>/dev/null && break
  sleep 0.1
done

start_flood() {
  taskset -c 1 python3 - "$PORT" "$CONNS" <<'PY' &
import itertools, selectors, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
sel = selectors.DefaultSelector()
kinds = itertools.cycle(("idle", "trickle", "half-closed"))
HALF = b"8=FIX.4.4\x019=72\x0135=A\x0134=1\x0149=FLOOD"
def open_one():
    kind = next(kinds)
    try:
        s = socket.create_connection(("127.0.0.1", port), 1)
        s.setblocking(False)
        if kind != "idle":
            s.send(HALF)
        if kind == "half-closed":
            s.shutdown(socket.SHUT_WR)
        sel.register(s, selectors.EVENT_READ, kind)
    except OSError:
        time.sleep(0.01)
for _ in range(n):
    open_one()
last = time.monotonic()
while True:
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:  # closed by the engine: open another
            sel.unregister(s)
            s.close()
            open_one()
    if time.monotonic() - last >= 0.5:  # the never-ending Logons: one byte more
        last = time.monotonic()
        for key in list(sel.get_map().values()):
            if key.data == "trickle":
                try:
                    key.fileobj.send(b"X")
                except OSError:
                    pass
PY
  FLOOD=$!
  sleep 1 # let the flood reach its size
}

stop_flood() {
  kill "$FLOOD" 2>/dev/null || true
  wait "$FLOOD" 2>/dev/null || true
  FLOOD=
  sleep 2.5 # the engine closes what is left within the LogonTimeout
}

run() { # label [count]
  taskset -c 1 "$EX/loadgen" --addr "127.0.0.1:$PORT" --mode pingpong --sessions 1 \
    --count "${2:-20000}" --warmup 2000 --spin --quiet --timeout 60 | tail -n 1 |
    python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["case"]=sys.argv[1]; print(json.dumps(d))' "$1" \
    | tee -a "$OUT/results.jsonl" >/dev/null
}

for rep in $(seq "$REPEAT"); do
  run quiet
  # The session logs on first (beyond MaxPendingConnections a new connection is
  # refused at once, by design), then the flood starts under its measured run.
  run flood 60000 &
  RUN=$!
  sleep 0.05
  start_flood
  wait "$RUN"
  stop_flood
  echo "repetition $rep done" >&2
done
run after # accepting normally again once the flood is over

python3 - "$OUT/results.jsonl" "$CONNS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(case, key):
    return statistics.median(r[key] for r in rows if r["case"] == case)
print(f"pingpong round trip, 1 session, {len(rows)//2} repetitions, medians (us)")
print(f"{'case':<36}{'p50':>8}{'p90':>8}{'p99':>8}{'ok':>6}")
for case, label in (("quiet", "undisturbed"), ("flood", f"{sys.argv[2]} flooding connections"), ("after", "after the last flood")):
    ok = all(r["ok"] for r in rows if r["case"] == case)
    print(f"{label:<36}{med(case,'lat_p50_us'):>8.1f}{med(case,'lat_p90_us'):>8.1f}{med(case,'lat_p99_us'):>8.1f}{str(ok):>6}")
print(f"ratio flood/undisturbed: p50 {med('flood','lat_p50_us')/med('quiet','lat_p50_us'):.2f}x, "
      f"p99 {med('flood','lat_p99_us')/med('quiet','lat_p99_us'):.2f}x")
PY
echo "results: $OUT/results.jsonl"
