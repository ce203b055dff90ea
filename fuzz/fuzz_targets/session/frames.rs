//! The frames the counterparty sends: well-formed, with a choice of flaws.

use fixengine::{Clock, Encoder, TimePrecision, UtcTimestamp, tags};

use crate::driver::{Driver, ORDER, TYPES};

impl Driver {
    /// A well-formed frame from TW. `a`: [type + variant, seq, flags, v1, v2, odd].
    pub(crate) fn build_frame(&self, a: [u8; 6]) -> Vec<u8> {
        let mt = TYPES[usize::from(a[0] % 10)];
        let variant = a[0] / 10;
        let expected = self.expected_in();
        let seq: Option<u64> = match a[1] % 8 {
            d @ 0..=5 => Some((expected + u64::from(d)).saturating_sub(2)),
            6 => Some(1),
            _ if a[1] & 0x80 != 0 => None,
            _ => Some(expected + 4 + u64::from(a[1] >> 3) * 37),
        };
        let flags = a[2];
        let (v1, v2, odd) = (a[3], a[4], a[5]);
        let poss_dup = flags & 1 != 0;
        let orig_time = flags & 2 != 0;
        let gap_fill = flags & 4 != 0;
        let reset = flags & 8 != 0;
        let omit_main = flags & 16 != 0;
        let extra = flags & 32 != 0;
        let alt = flags & 64 != 0;
        let oddity = flags & 128 != 0;

        let now = self.clock.now_utc();
        let shift = |t: UtcTimestamp, secs: i64| {
            UtcTimestamp::from_unix(t.unix_secs() + secs, t.subsec_nanos())
        };
        let (mut begin, mut sender, mut target) = (self.cfg.version.begin_string(), "TW", "ISLD");
        let mut sending_time = Some(now);
        if oddity {
            match odd % 6 {
                0 => sender = "WT",
                1 => target = "XX",
                2 => {
                    begin = if begin == "FIX.4.4" {
                        "FIX.4.2"
                    } else {
                        "FIX.4.4"
                    }
                }
                3 => sending_time = Some(shift(now, -121)),
                4 => sending_time = Some(shift(now, 121)),
                _ => sending_time = None,
            }
        }
        let mut out = Vec::new();
        let mut e = Encoder::start(&mut out, begin, mt);
        if let Some(s) = seq {
            e.uint(tags::MSG_SEQ_NUM, s);
        }
        if poss_dup {
            e.bool(tags::POSS_DUP_FLAG, true);
        }
        e.str(tags::SENDER_COMP_ID, sender);
        if let Some(t) = sending_time {
            e.timestamp(tags::SENDING_TIME, t, TimePrecision::Millis);
        }
        e.str(tags::TARGET_COMP_ID, target);
        if orig_time {
            let base = sending_time.unwrap_or(now);
            match odd >> 6 {
                0 => e.timestamp(tags::ORIG_SENDING_TIME, shift(base, -i64::from(odd & 63)), TimePrecision::Millis),
                1 => e.timestamp(tags::ORIG_SENDING_TIME, shift(base, i64::from(odd & 63) + 1), TimePrecision::Millis),
                2 => e.timestamp(tags::ORIG_SENDING_TIME, base, TimePrecision::Seconds),
                _ => e.str(tags::ORIG_SENDING_TIME, "x"),
            };
        }
        let test_req_id = if alt {
            format!("T{v2}")
        } else {
            "TEST".to_owned()
        };
        match mt {
            b"A" => {
                e.uint(tags::ENCRYPT_METHOD, u64::from(variant % 8 == 7));
                if !omit_main {
                    let hbi = match v1 >> 6 {
                        0 => 30,
                        1 => 1,
                        2 => 0,
                        _ => u64::from(v2) * 17,
                    };
                    e.uint(tags::HEART_BT_INT, hbi);
                }
                if reset {
                    e.bool(tags::RESET_SEQ_NUM_FLAG, true);
                }
                if extra {
                    e.str(tags::TEXT, "refuse me");
                }
                if alt {
                    let n = (self.wire_next + u64::from(v2 % 6)).saturating_sub(3);
                    e.uint(tags::NEXT_EXPECTED_MSG_SEQ_NUM, n);
                }
                if let Some(id) = self.cfg.version.appl_ver_id() {
                    if variant % 4 != 3 {
                        e.str(tags::DEFAULT_APPL_VER_ID, id);
                    }
                }
            }
            b"0" | b"1" => {
                if extra {
                    e.str(tags::TEST_REQ_ID, &test_req_id);
                }
            }
            b"2" => {
                let begin_no = match v1 % 4 {
                    0 => 1,
                    1 => self.wire_next.saturating_sub(u64::from(v2 % 8)),
                    2 => 0,
                    _ => u64::from(v2) * 9,
                };
                let end_no = match v2 >> 5 {
                    0..=2 => 0,
                    3 => 999_999,
                    4 => begin_no + u64::from(v1 % 4),
                    5 => self.wire_next + 3,
                    6 => 1,
                    _ => u64::MAX / 2,
                };
                if !omit_main {
                    e.uint(tags::BEGIN_SEQ_NO, begin_no);
                }
                if !alt {
                    e.uint(tags::END_SEQ_NO, end_no);
                }
            }
            b"3" => {
                e.uint(tags::REF_SEQ_NUM, self.wire_next.saturating_sub(1));
                e.str(tags::TEXT, "no");
            }
            b"4" => {
                let s = seq.unwrap_or(0);
                if !omit_main {
                    match v1 % 8 {
                        0 => e.uint(tags::NEW_SEQ_NO, expected),
                        1 => e.uint(tags::NEW_SEQ_NO, expected + 1),
                        2 => e.uint(tags::NEW_SEQ_NO, expected + 5),
                        3 => e.uint(tags::NEW_SEQ_NO, expected.saturating_sub(1)),
                        4 => e.uint(tags::NEW_SEQ_NO, 0),
                        5 => e.uint(tags::NEW_SEQ_NO, s + 1),
                        6 => e.str(tags::NEW_SEQ_NO, "x"),
                        _ => e.uint(tags::NEW_SEQ_NO, expected + u64::from(v2) * 13),
                    };
                }
                if gap_fill {
                    e.bool(tags::GAP_FILL_FLAG, true);
                } else if alt {
                    e.bool(tags::GAP_FILL_FLAG, false);
                }
            }
            b"5" => {
                if extra {
                    e.str(tags::TEXT, "bye");
                }
            }
            b"D" => {
                e.raw(ORDER);
                if extra {
                    match v1 % 4 {
                        0 => e.raw(b"58=\x01"),
                        1 => e.raw(b"x9=1\x01"),
                        2 => e.raw(b"115=JCD\x01"),
                        _ => e.uint(tags::PRICE, u64::from(v2)),
                    };
                }
            }
            b"j" => {
                e.uint(tags::REF_SEQ_NUM, self.wire_next.saturating_sub(1))
                    .str(tags::REF_MSG_TYPE, "D")
                    .uint(tags::BUSINESS_REJECT_REASON, u64::from(v1 % 8));
            }
            _ => {
                e.str(148, "news");
            }
        }
        e.finish();
        out
    }
}
