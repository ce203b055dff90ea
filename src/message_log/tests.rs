//! The log as written: records, masking, files, recovery, failures.

use super::*;

/// A frame with its BodyLength(9) right (`|` for SOH); CheckSum(10) is not checked.
fn frame(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    format!("8=FIX.4.4\x019={}\x01{body}10=000\x01", body.len()).into_bytes()
}

fn hb() -> Vec<u8> {
    frame("35=0|34=2|49=TW|52=20261203-10:00:00.000|56=ISLD|")
}

fn t(secs: i64) -> UtcTimestamp {
    // 2026-12-03 10:00:00 UTC
    UtcTimestamp::from_unix(1_796_292_000 + secs, 250_000)
}

fn open(dir: &Path, options: LogOptions) -> MessageLog {
    let (log, event) = MessageLog::open(dir.join(FOLDER), options, t(0));
    assert_eq!(event, None);
    log
}

/// Every record of every file in `dir`, oldest first, as (file, kind, bytes, note).
fn read_all(dir: &Path) -> Vec<(String, RecordKind, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for path in log_files(dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = fs::read(&path).unwrap();
        let mut read = records(&data);
        for record in read.by_ref() {
            let r = record.unwrap_or_else(|len| panic!("{name}: {len} bytes not a record"));
            out.push((name.clone(), r.kind, r.bytes.to_vec(), r.note.to_vec()));
        }
        assert_eq!(read.offset(), data.len(), "{name}: read to its end");
    }
    out
}

#[test]
fn records_are_written_in_order_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), LogOptions::default());
    assert_eq!(log.inbound(t(1), &hb(), None), None);
    assert_eq!(
        log.inbound(t(2), b"8=FIX.4.4\x019=x", Some("bad length")),
        None
    );
    let mut out = hb();
    let resent = frame("35=D|34=2|43=Y|49=ISLD|56=TW|");
    out.extend_from_slice(&resent);
    assert_eq!(log.outbound(t(3), &out), None);
    drop(log);
    let records = read_all(&dir.path().join(FOLDER));
    let got: Vec<_> = records
        .iter()
        .map(|(f, k, b, n)| (f.as_str(), *k, b.as_slice(), n.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("20261203-001.log", RecordKind::In, &hb()[..], &b""[..]),
            (
                "20261203-001.log",
                RecordKind::Garbled,
                b"8=FIX.4.4\x019=x",
                b"bad length"
            ),
            ("20261203-001.log", RecordKind::Out, &hb(), b""),
            ("20261203-001.log", RecordKind::Resend, &resent, b""),
        ]
    );
    // Closed, the file is text to its last newline.
    let data = fs::read(dir.path().join(FOLDER).join("20261203-001.log")).unwrap();
    assert!(!data.contains(&0) && data.ends_with(b"\n"));
    let first = format!("20261203-10:00:01.000250 in {} 8=FIX.4.4\x01", hb().len());
    assert!(data.starts_with(first.as_bytes()));
}

#[test]
fn records_run_on_across_the_windows_of_a_growing_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), LogOptions::default());
    // About 3.5 windows of records, growing inline and while idle by turns.
    let n = 3 * GROW_STEP / hb().len() + GROW_STEP / 2 / hb().len();
    for i in 0..n {
        assert_eq!(log.inbound(t(1), &hb(), None), None);
        if i % 5000 == 0 {
            assert_eq!(log.idle(t(1)), None);
        }
    }
    drop(log);
    let records = read_all(&dir.path().join(FOLDER));
    assert_eq!(records.len(), n);
    assert!(records.iter().all(|r| r.2 == hb()));
}

#[test]
fn masked_values_never_reach_the_file_and_heartbeats_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        heartbeats: false,
        ..LogOptions::default()
    };
    let mut log = open(dir.path(), options);
    log.inbound(t(1), &frame("35=A|34=1|49=TW|56=ISLD|554=secret|"), None);
    log.inbound(t(1), &hb(), None);
    log.outbound(t(1), &hb());
    drop(log);
    let dir = dir.path().join(FOLDER);
    let records = read_all(&dir);
    assert_eq!(records.len(), 1, "heartbeats left out");
    assert_eq!(
        records[0].2,
        b"8=FIX.4.4\x019=35\x0135=A\x0134=1\x0149=TW\x0156=ISLD\x01554=***\x0110=000\x01"
    );
    let all = fs::read(dir.join("20261203-001.log")).unwrap();
    assert!(!all.windows(6).any(|w| w == b"secret"));
}

#[test]
fn a_file_is_closed_at_its_size_and_at_midnight_utc() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        file_size: 300,
        ..LogOptions::default()
    };
    let mut log = open(dir.path(), options);
    for i in 0..4 {
        log.inbound(t(i), &hb(), None); // 114 bytes a record: two per file
    }
    log.inbound(t(14 * 3600), &hb(), None); // the next day
    drop(log);
    let files: Vec<String> = read_all(&dir.path().join(FOLDER))
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        files,
        [
            "20261203-001.log",
            "20261203-001.log",
            "20261203-002.log",
            "20261203-002.log",
            "20261204-001.log"
        ]
    );
}

#[test]
fn reopening_continues_in_a_new_file_after_a_crash_cut_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(FOLDER);
    fs::create_dir_all(&folder).unwrap();
    // What a kill leaves: a record, a torn one, then the zeros of the map.
    let mut crashed = Vec::new();
    let time = record::format_time(t(0));
    let mut rec = vec![0; record::record_len(RecordKind::In, hb().len(), b"")];
    record::write(&mut rec, &time, RecordKind::In, &hb(), b"");
    crashed.extend_from_slice(&rec);
    crashed.extend_from_slice(&rec[..40]);
    crashed.resize(GROW_STEP, 0);
    fs::write(folder.join("20261203-001.log"), &crashed).unwrap();

    let mut log = open(dir.path(), LogOptions::default());
    log.inbound(t(1), &hb(), None);
    drop(log);
    let old = fs::read(folder.join("20261203-001.log")).unwrap();
    assert_eq!(
        old.len(),
        rec.len() + 41,
        "cut to its text, the torn record ended"
    );
    // Readers take the whole record and skip the torn one.
    let Parsed::Record(_, len) = parse(&old) else {
        panic!()
    };
    assert_eq!(parse(&old[len..]), Parsed::Incomplete);
    assert_eq!(fs::read(folder.join("20261203-002.log")).unwrap(), {
        let mut r = vec![0; rec.len()];
        record::write(
            &mut r,
            &record::format_time(t(1)),
            RecordKind::In,
            &hb(),
            b"",
        );
        r
    });
}

#[test]
fn a_second_writer_is_refused_by_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), LogOptions::default());
    let (second, event) = MessageLog::open(dir.path().join(FOLDER), LogOptions::default(), t(0));
    let Some(LogEvent::Failed(why)) = event else {
        panic!("{event:?}")
    };
    assert!(why.contains("locked"), "{why}");
    drop(second);
}

#[test]
fn a_failure_is_reported_once_and_the_log_resumes_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(FOLDER);
    let options = LogOptions {
        file_size: 200,
        ..LogOptions::default()
    };
    let mut log = open(dir.path(), options);
    // The next file cannot be created: its name is taken by a folder.
    fs::create_dir(folder.join("20261203-002.log")).unwrap();
    assert_eq!(log.inbound(t(1), &hb(), None), None);
    let event = log.inbound(t(2), &hb(), None);
    let Some(LogEvent::Failed(why)) = event else {
        panic!("{event:?}")
    };
    assert!(why.contains("20261203-002.log"), "{why}");
    assert_eq!(log.inbound(t(3), &hb(), None), None, "reported once");
    assert_eq!(log.idle(t(4)), None, "not yet time to try again");
    fs::remove_dir(folder.join("20261203-002.log")).unwrap();
    assert_eq!(log.idle(t(8)), Some(LogEvent::Resumed { lost: 2 }));
    log.inbound(t(9), &hb(), None);
    drop(log);
    let kinds: Vec<(String, RecordKind)> =
        read_all(&folder).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        kinds,
        [
            ("20261203-001.log".to_owned(), RecordKind::In),
            ("20261203-002.log".to_owned(), RecordKind::Note),
            ("20261203-003.log".to_owned(), RecordKind::In),
        ]
    );
    let notes = read_all(&folder);
    assert!(
        String::from_utf8_lossy(&notes[1].2).starts_with("2 messages not logged since"),
        "{:?}",
        String::from_utf8_lossy(&notes[1].2)
    );
}

#[test]
fn retention_keeps_the_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(FOLDER);
    fs::create_dir_all(&folder).unwrap();
    for name in [
        "20261201-001.log",
        "20261202-001.log",
        "20261202-002.log",
        "notes.txt",
    ] {
        fs::write(folder.join(name), b"").unwrap();
    }
    let options = LogOptions {
        max_files: 2,
        ..LogOptions::default()
    };
    let log = open(dir.path(), options);
    drop(log);
    let mut left: Vec<String> = fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["20261202-002.log", "20261203-001.log", "lock", "notes.txt"]
    );
}

#[test]
fn every_masked_field_is_masked_and_nothing_else_moves() {
    let masked = Masked::new(&[554, 925]);
    let mut out = Vec::new();
    let frame = b"8=FIX.4.4\x019=9\x01554=a\x0158=554=x\x01925=bb\x0110=000\x01";
    assert!(mask(frame, &masked, &mut out));
    assert_eq!(
        out,
        b"8=FIX.4.4\x019=9\x01554=***\x0158=554=x\x01925=***\x0110=000\x01"
    );
    assert!(!mask(b"8=FIX.4.4\x019=9\x015540=a\x01", &masked, &mut out));
    assert!(!mask(b"8=FIX.4.4\x01", &Masked::new(&[]), &mut out));
    // At the start of the bytes, and a tag that only ends like a masked one.
    assert!(mask(b"554=x\x01", &masked, &mut out));
    assert_eq!(out, b"554=***\x01");
    assert!(!mask(b"35=A\x011554=x\x01", &masked, &mut out));
    // A frame that ends inside the masked value (a garbled one).
    assert!(mask(b"35=A\x01554=sec", &masked, &mut out));
    assert_eq!(out, b"35=A\x01554=***");
}

/// The fields' values a naive split finds masked, to hold the word-at-a-time
/// scan to.
fn naive_masked(frame: &[u8], tags: &[u32]) -> Vec<Vec<u8>> {
    frame
        .split(|&b| b == 1)
        .filter_map(|field| {
            let eq = field.iter().position(|&b| b == b'=')?;
            let tag: u32 = std::str::from_utf8(&field[..eq]).ok()?.parse().ok()?;
            tags.contains(&tag).then(|| field[eq + 1..].to_vec())
        })
        .collect()
}

#[test]
fn the_word_scan_finds_what_a_naive_split_finds_at_every_alignment() {
    let tags = [554, 925, 1402, 7];
    let masked = Masked::new(&tags);
    let fields = [
        "554=pw", "55=IBM", "925=new", "1554=x", "7=a=b", "58=5=x", "1402=", "17=E1",
    ];
    for pad in 0..9 {
        for skip in 0..fields.len() {
            let mut frame = format!("8=FIX.4.4\x019={}\x01", "1".repeat(pad + 1)).into_bytes();
            for (i, f) in fields.iter().enumerate() {
                if i != skip {
                    frame.extend_from_slice(f.as_bytes());
                    frame.push(1);
                }
            }
            let mut found = Vec::new();
            let mut rest = &frame[..];
            while let Some((start, end)) = first_masked(rest, &masked) {
                found.push(rest[start..end].to_vec());
                rest = &rest[end..];
            }
            assert_eq!(
                found,
                naive_masked(&frame, &tags),
                "{:?}",
                String::from_utf8_lossy(&frame)
            );
        }
    }
}

#[test]
fn frames_are_cut_by_their_body_length() {
    let hb = hb();
    assert_eq!(outbound_frame(&hb), Some((hb.len(), false)));
    assert_eq!(outbound_frame(&hb[..hb.len() - 1]), None);
    assert_eq!(msg_type(&hb), Some(&b"0"[..]));
    let resent = frame("35=4|34=2|43=Y|49=ISLD|");
    assert_eq!(outbound_frame(&resent), Some((resent.len(), true)));
    let mut two = hb.clone();
    two.extend_from_slice(&resent);
    assert_eq!(outbound_frame(&two), Some((hb.len(), false)));
}
