#!/usr/bin/env python3
"""Many idle, heart-beating sessions against one acceptor: how long their Logons
take, and what they cost the acceptor while idle (CPU and resident memory).

    benches/idle_sessions.py --pid PID --port PORT [--sessions 1000] [--heartbeat 1] [--hold 20]

The acceptor must accept CLIENT1..N -> SERVER1 (the example acceptor with
--unregistered does). Every session logs on with ResetSeqNumFlag=Y and the given
HeartBtInt, then stays idle, answering TestRequests and sending its own
Heartbeats, for --hold seconds while the acceptor's CPU time (utime+stime of all
its threads, from /proc) and RSS are sampled.
"""
import argparse, os, selectors, socket, time


def encode(msg_type, fields, seq, sender):
    now = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()) + ".000"
    body = f"35={msg_type}\x0134={seq}\x0149={sender}\x0152={now}\x0156=SERVER1\x01{fields}"
    head = f"8=FIX.4.4\x019={len(body)}\x01"
    raw = (head + body).encode()
    return raw + f"10={sum(raw) % 256:03d}\x01".encode()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--heartbeat", type=int, default=1)
    ap.add_argument("--hold", type=float, default=20)
    a = ap.parse_args()
    sel = selectors.DefaultSelector()
    sessions = {}
    rss_before = rss_kib(a.pid)
    cpu_start = cpu_seconds(a.pid)
    start = time.monotonic()
    for i in range(1, a.sessions + 1):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        name = f"CLIENT{i}"
        s.sendall(encode("A", f"98=0\x01108={a.heartbeat}\x01141=Y\x01", 1, name))
        sessions[s] = {"name": name, "seq": 2, "logged_on": False, "last_sent": time.monotonic()}
        sel.register(s, selectors.EVENT_READ)
    logged_on = 0
    deadline = start + 60

    def answer(sock, st, data):
        """Answers every TestRequest in `data`; returns the messages it holds."""
        for part in data.split(b"\x0135=1\x01")[1:]:
            req = part.split(b"\x01112=", 1)[-1].split(b"\x01", 1)[0].decode()
            sock.sendall(encode("0", f"112={req}\x01", st["seq"], st["name"]))
            st["seq"] += 1
            st["last_sent"] = time.monotonic()
        return data.count(b"\x0135=")

    def heartbeats():
        now = time.monotonic()
        for sock, st in sessions.items():
            if st["logged_on"] and now - st["last_sent"] >= a.heartbeat:
                sock.sendall(encode("0", "", st["seq"], st["name"]))
                st["seq"] += 1
                st["last_sent"] = now

    while logged_on < a.sessions and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            st = sessions[key.fileobj]
            data = key.fileobj.recv(65536)
            if not data:
                raise SystemExit(f"{st['name']} closed during logon")
            if not st["logged_on"] and b"\x0135=A\x01" in data:
                st["logged_on"] = True
                logged_on += 1
            answer(key.fileobj, st, data)
        heartbeats()
    logon_time = time.monotonic() - start
    logon_cpu = cpu_seconds(a.pid) - cpu_start
    print(f"{logged_on}/{a.sessions} Logons answered in {logon_time:.3f} s "
          f"(acceptor CPU {logon_cpu:.2f} s: the rest is this client)")
    cpu0, t0 = cpu_seconds(a.pid), time.monotonic()
    rss_peak = rss_kib(a.pid)
    received = 0
    while time.monotonic() - t0 < a.hold:
        for key, _ in sel.select(timeout=0.2):
            st = sessions[key.fileobj]
            data = key.fileobj.recv(65536)
            if not data:
                raise SystemExit(f"{st['name']} was closed while idle")
            received += answer(key.fileobj, st, data)
        heartbeats()
        rss_peak = max(rss_peak, rss_kib(a.pid))
    cpu = cpu_seconds(a.pid) - cpu0
    held = time.monotonic() - t0
    print(f"idle for {held:.1f} s: acceptor CPU {100 * cpu / held:.2f} % of one core, "
          f"{received} messages received from it")
    print(f"acceptor RSS {rss_before} KiB before, {rss_peak} KiB with the sessions: "
          f"{(rss_peak - rss_before) / a.sessions:.1f} KiB per session")
    for s in sessions:
        s.close()


if __name__ == "__main__":
    main()
