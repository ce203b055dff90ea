//! UTCTimestamp: arbitrary bytes parsed; a parsed timestamp formatted at every
//! precision and parsed back.
//!
//! Asserts: no panic; every formatted form has the documented length and parses
//! again; the parsed-back value is the original truncated to the precision (so the
//! nanosecond round trip is exact); `Display` is the nanosecond form.

#![no_main]

use fixengine::codec::MAX_TIMESTAMP_LEN;
use fixengine::{TimePrecision, UtcTimestamp};
use libfuzzer_sys::fuzz_target;

const PRECISIONS: [TimePrecision; 4] = [
    TimePrecision::Seconds,
    TimePrecision::Millis,
    TimePrecision::Micros,
    TimePrecision::Nanos,
];

fuzz_target!(|data: &[u8]| {
    let Some(ts) = UtcTimestamp::parse(data) else {
        return;
    };
    assert!(ts.subsec_nanos() < 1_000_000_000);
    for precision in PRECISIONS {
        let mut buf = [0u8; MAX_TIMESTAMP_LEN];
        let text = ts.format(precision, &mut buf).to_vec();
        let digits = precision.digits();
        let expected_len = if digits == 0 { 17 } else { 18 + digits };
        assert_eq!(text.len(), expected_len, "{precision:?}: {text:?}");

        let mut appended = b"x".to_vec();
        ts.write_to(precision, &mut appended);
        assert_eq!(&appended[1..], &text[..], "write_to differs from format");

        let back = UtcTimestamp::parse(&text).unwrap_or_else(|| {
            panic!(
                "{:?} (from {:?}) formatted at {precision:?} as {:?} does not parse",
                ts,
                String::from_utf8_lossy(data),
                String::from_utf8_lossy(&text)
            )
        });
        let unit = 10u32.pow(9 - digits as u32);
        let truncated = UtcTimestamp::from_unix(ts.unix_secs(), ts.subsec_nanos() / unit * unit);
        assert_eq!(
            back,
            truncated,
            "{:?} -> {:?} at {precision:?} -> {back:?}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&text)
        );
        if precision == TimePrecision::Nanos {
            assert_eq!(back, ts, "nanosecond round trip not exact");
            assert_eq!(ts.to_string().as_bytes(), &text[..], "Display is not the nanos form");
        }
    }
});
