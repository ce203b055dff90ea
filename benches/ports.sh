# Port helpers sourced by the end-to-end bench scripts (e2e.sh, sessions.sh).

free_port() { # a port in 20000..32000 nobody listens on (QuickFIX needs < 32768)
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
  done
}

wait_listen() { # port seconds: true once something listens on port
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    ss -ltn "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.1
  done
  return 1
}
