#!/usr/bin/env python3
"""Writes the seed corpus under corpus/<target>/ ("|" stands for SOH). Run from fuzz/."""
import os

def frame(body, begin="FIX.4.4"):
    body = body.replace("|", "\x01").encode()
    head = f"8={begin}\x019={len(body)}\x01".encode()
    msg = head + body
    return msg + f"10={sum(msg) % 256:03d}\x01".encode()

BODIES = {
    "heartbeat": "35=0|34=2|49=CLIENT|52=20240102-03:04:05.678|56=SERVER|",
    "logon": "35=A|34=1|49=CLIENT|52=20240102-03:04:05|56=SERVER|98=0|108=30|141=Y|553=user|554=secret|",
    "test_request": "35=1|34=3|49=CLIENT|52=20240102-03:04:05.678901|56=SERVER|112=TEST1|",
    "resend_request": "35=2|34=4|49=CLIENT|52=20240102-03:04:05.678901234|56=SERVER|7=1|16=0|",
    "reject_groups": "35=3|34=5|43=Y|49=A|52=20240229-23:59:60.5|56=B|97=N|122=20240229-23:59:59|45=2|371=44|372=D|373=5|58=bad price|",
    "logon_msg_types": "35=A|34=1|49=A|52=20240102-03:04:05|56=B|98=0|108=30|384=2|372=D|385=R|372=8|385=S|",
    "new_order": "35=D|34=6|49=A|52=20240102-03:04:05.000|56=B|627=2|628=H1|629=20240102-03:04:04|628=H2|11=ORD-1|21=1|55=EUR/USD|54=1|60=20240102-03:04:05|38=100|40=2|44=-10.25|",
    "raw_data": "35=B|34=7|49=A|52=20240102-03:04:05|56=B|148=news|95=5|96=a\x01b=c|58=x|",
    "sequence_reset": "35=4|34=8|43=Y|49=A|52=20240102-03:04:05|56=B|122=20240102-03:04:01|123=Y|36=20|",
}
FRAMES = {name: frame(b) for name, b in BODIES.items()}
FRAMES["fixt"] = frame("35=0|34=9|49=A|52=20240102-03:04:05|56=B|1128=9|", begin="FIXT.1.1")
FRAMES["fix40"] = frame("35=0|34=10|49=A|52=20240102-03:04:05|56=B|", begin="FIX.4.0")

def write(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data)

# message: one frame each.
for name, data in FRAMES.items():
    write("message", name, data)

# frame: [config][n][n chunk sizes] stream. config 0 = default Framer.
hb, lo, nos = FRAMES["heartbeat"], FRAMES["logon"], FRAMES["new_order"]
write("frame", "one", b"\x00\x00" + hb)
write("frame", "three", b"\x00\x00" + hb + lo + nos)
write("frame", "split", b"\x00\x03\x05\x0c\x28" + hb + nos + hb)
write("frame", "junk_between", b"\x00\x02\x01\x03" + b"junk\x018=FI" + hb + b"xx8=F" + lo)
write("frame", "bad_checksum", b"\x00\x01\x10" + hb[:-2] + b"9\x01" + lo)
write("frame", "bad_body_length", b"\x00\x00" + hb.replace(b"9=", b"9=1", 1) + lo)
write("frame", "no_validate_small_max", b"\x05\x01\x20" + hb[:-4] + b"000\x01" + FRAMES["raw_data"])
write("frame", "truncated_checksum", b"\x00\x00" + hb[:-2])

# timestamp: the four precisions, a leap second, odd fractions.
for i, ts in enumerate([
    "20240102-03:04:05", "20240102-03:04:05.678", "20240102-03:04:05.678901",
    "20240102-03:04:05.678901234", "20161231-23:59:60.999", "20240229-00:00:00.1",
    "19700101-00:00:00.123456789012", "99991231-23:59:59.999999999", "00000101-00:00:00",
]):
    write("timestamp", f"ts{i}", ts.encode())

# session: [config][config2] op... (see fuzz_targets/session.rs). A frame op is
# [0][type][seq][flags][v1][v2][odd]: type indexes A,0,1,2,3,4,5,D,j,B; seq 2 is the
# expected number, 5 three past it, 6 is 1; flags 1 PossDup, 2 OrigSendingTime,
# 4 GapFill, 8 ResetSeqNumFlag, 32 extra field, 64 alternative, 128 oddity.
def op_frame(t, seq=2, flags=0, v1=0, v2=0, odd=0):
    return bytes([0, t, seq, flags, v1, v2, odd])

A, HB, TR, RR, REJ, SR, LO, D, J, B = range(10)
FIX40, FIX44, FIX50SP2 = 0, 4, 7
LAZY, RESET_LOGON, RESET_LOGOUT, RESET_DISC, NEXT_EXPECTED = 128, 8, 16, 32, 64
logon = op_frame(A)
advance_31s = bytes([7, 0x84, 0x44])
SESSION = {
    "logon_order_logout": bytes([FIX44, 0]) + logon + op_frame(D) + op_frame(B)
        + op_frame(TR, flags=32) + advance_31s + op_frame(LO),
    "gap_then_resend": bytes([FIX44, 0]) + logon + op_frame(D, seq=5)
        + op_frame(SR, flags=4 | 1, v1=2) + op_frame(RR, v1=0, v2=0) + op_frame(HB),
    "lazy_resend_in_batches": bytes([FIX44 | LAZY, 0]) + logon + bytes([10, 150])
        + op_frame(RR) + op_frame(HB) + bytes([13]) + op_frame(A, seq=6, flags=8),
    "send_while_disconnected": bytes([FIX44, 0]) + logon + op_frame(D) + bytes([12, 1, 9, 0, 12, 2])
        + logon + op_frame(RR, v1=1, v2=2),
    "fix40_poss_dup": bytes([FIX40, 0]) + logon + op_frame(D) + op_frame(D, seq=1, flags=1 | 2)
        + op_frame(RR, v2=0x60) + op_frame(SR, seq=0x80 | 7, v1=2),
    "fixt_logon": bytes([FIX50SP2, 0]) + logon + op_frame(D) + op_frame(J) + op_frame(LO, flags=32),
    "reset_policies": bytes([FIX44 | RESET_LOGON | RESET_LOGOUT | RESET_DISC, 0]) + logon
        + op_frame(D) + bytes([11, 1]) + op_frame(LO) + bytes([12, 0]) + logon,
    "next_expected": bytes([FIX44 | NEXT_EXPECTED, 0]) + logon + op_frame(D) + bytes([12, 0])
        + op_frame(A, flags=64, v2=1),
    "flood_past_max_queued": bytes([FIX44, 0]) + logon + bytes([14, 209]) + op_frame(HB),
    "raw_fields": bytes([FIX44, 2]) + logon + bytes([6, 1 | (D << 1), 14]) + b"11=ID\x0158=\x01x9=\x01"
        + bytes([6, 0, len(FRAMES["heartbeat"])]) + FRAMES["heartbeat"],
    "timers": bytes([FIX44, 0]) + op_frame(A, v1=0x40) + bytes([7, 0x10, 0, 7, 0x10, 0, 7, 0x10, 0])
        + op_frame(HB, flags=32, v2=0) + bytes([8, 0xff, 0xff]),
}
for name, data in SESSION.items():
    write("session", name, data)
