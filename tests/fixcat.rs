//! `fixcat`, the binary, run on files written here: message logs written in
//! the record format byte for byte, stores written by `FileStore`, raw
//! captures and stdin. One test per filter and output format, following a log
//! as it is written, and the `store` command with and without an engine
//! (here: a `FileStore` held open) on the session.

// Tests unwrap, and read the clock for "today".
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use fixengine::store::{FileStore, FileStoreOptions, MessageStore, folder_name};
use fixengine::{TimePrecision, UtcTimestamp};

use common::{OrderApp, config, engine_with, initiator, order};

/// How long a run of fixcat, or a line from a followed log, may take before
/// the test fails (generous: a loaded CI machine).
const LIMIT: Duration = Duration::from_secs(20);

/// What a run of fixcat came to.
#[derive(Debug)]
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    #[track_caller]
    fn ok(&self) -> &Self {
        assert!(self.status.success(), "fixcat failed: {self:?}");
        self
    }
}

/// Runs fixcat with `args`, `stdin` on its standard input, to its end.
fn fixcat(args: &[&str], stdin: &[u8]) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixcat"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // A thread each, so that no pipe fills while another is waited on.
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("fixcat {args:?} did not end within {LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    writer.join().unwrap();
    Ran {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn reader(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A FIX.4.4 message with BodyLength(9) and CheckSum(10) right.
fn msg(fields: &[(u32, &str)]) -> Vec<u8> {
    let body: String = fields.iter().map(|(t, v)| format!("{t}={v}\x01")).collect();
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

/// One log record, exactly as the format says: `<time> <kind> <len> <bytes>[ <note>]\n`.
fn record(time: &str, kind: &str, bytes: &[u8], note: &str) -> Vec<u8> {
    let mut r = format!("{time} {kind} {} ", bytes.len()).into_bytes();
    r.extend_from_slice(bytes);
    if !note.is_empty() {
        r.push(b' ');
        r.extend_from_slice(note.as_bytes());
    }
    r.push(b'\n');
    r
}

/// A message of a session between TW (the counterparty) and ISLD (us).
fn session_msg(
    inbound: bool,
    msg_type: &str,
    seq: u64,
    time: &str,
    body: &[(u32, &str)],
) -> Vec<u8> {
    let (sender, target) = if inbound {
        ("TW", "ISLD")
    } else {
        ("ISLD", "TW")
    };
    let seq = seq.to_string();
    let mut fields = vec![
        (35, msg_type),
        (49, sender),
        (56, target),
        (34, seq.as_str()),
        (52, time),
    ];
    fields.extend_from_slice(body);
    msg(&fields)
}

/// The records of a short session, on 2026-12-03, one a second from 15:50:31:
/// Logon both ways, an order and its execution report, a second order, bytes
/// that did not frame, a note and a resent execution report.
fn sample_records() -> Vec<Vec<u8>> {
    let at = |s: u32| format!("20261203-15:50:{s:02}.000001");
    let m = |s: u32, kind: &str, msg_type: &str, seq: u64, body: &[(u32, &str)]| {
        let sent = format!("20261203-15:50:{s:02}.000");
        let message = session_msg(kind == "in", msg_type, seq, &sent, body);
        record(&at(s), kind, &message, "")
    };
    let logon = [(98, "0"), (108, "30")];
    vec![
        m(31, "in", "A", 1, &logon),
        m(32, "out", "A", 1, &logon),
        m(33, "in", "D", 2, &[(11, "ORD-7"), (54, "1"), (55, "IBM")]),
        m(34, "out", "8", 2, &[(11, "ORD-7"), (39, "0"), (54, "1")]),
        m(35, "in", "D", 3, &[(11, "ORD-8"), (54, "2"), (55, "MSFT")]),
        record(
            &at(36),
            "garbled",
            b"8=FIX.4.4\x019=x",
            "BodyLength(9) is not a number",
        ),
        record(&at(37), "note", b"2 messages not logged", ""),
        m(38, "resend", "8", 2, &[(43, "Y"), (11, "ORD-7"), (39, "0")]),
    ]
}

/// A session folder under `root` holding `messages/20261203-001.log` with the
/// sample records; returns the session folder.
fn sample_session(root: &Path) -> PathBuf {
    let session = root.join("FIX.4.4-ISLD-TW");
    std::fs::create_dir_all(session.join("messages")).unwrap();
    std::fs::write(
        session.join("messages/20261203-001.log"),
        sample_records().concat(),
    )
    .unwrap();
    session
}

/// The MsgType(35) and MsgSeqNum(34) of each printed line (`note` for a note,
/// `garbled` for a garbled record), to compare selections briefly.
fn picked(ran: &Ran) -> Vec<String> {
    ran.ok()
        .lines()
        .iter()
        .map(|line| {
            let kind = line.split(' ').nth(1).unwrap_or("");
            if kind == "note" || kind == "garbled" {
                return kind.to_owned();
            }
            let get = |tag: &str| {
                line.split('|')
                    .find_map(|f| f.rsplit(' ').next().unwrap_or(f).strip_prefix(tag))
                    .unwrap_or("-")
                    .to_owned()
            };
            format!("{kind} {}{}", get("35="), get("34="))
        })
        .collect()
}

#[test]
fn prints_every_record_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let ran = fixcat(&[session.to_str().unwrap()], b"");
    let lines = ran.ok().lines();
    assert_eq!(lines.len(), 8, "{ran:?}");
    assert!(
        lines[2].starts_with("20261203-15:50:33.000001 in 8=FIX.4.4|9="),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("|35=D|49=TW|56=ISLD|34=2|") && lines[2].ends_with('|'));
    assert_eq!(
        lines[5],
        "20261203-15:50:36.000001 garbled 8=FIX.4.4|9=x [BodyLength(9) is not a number]"
    );
    assert_eq!(
        lines[6],
        "20261203-15:50:37.000001 note 2 messages not logged"
    );
    assert!(lines[7].starts_with("20261203-15:50:38.000001 resend "));
    assert_eq!(ran.stderr, "");
    // The same whichever way the log is named: its folder, or the file.
    let folder = fixcat(&[session.join("messages").to_str().unwrap()], b"");
    let file = fixcat(
        &[session.join("messages/20261203-001.log").to_str().unwrap()],
        b"",
    );
    assert_eq!(folder.ok().stdout, ran.stdout);
    assert_eq!(file.ok().stdout, ran.stdout);
}

#[test]
fn type_filter_keeps_the_msg_types_given() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let s = session.to_str().unwrap();
    assert_eq!(
        picked(&fixcat(&["--type", "D", s], b"")),
        ["in D2", "in D3"]
    );
    let either = ["in D2", "out 82", "in D3", "resend 82"];
    assert_eq!(
        picked(&fixcat(&["--type", "D", "--type", "8", s], b"")),
        either
    );
    assert_eq!(picked(&fixcat(&["--type=D,8", s], b"")), either);
    assert!(fixcat(&["--type", "Z", s], b"").ok().stdout.is_empty());
}

#[test]
fn seq_filter_keeps_an_inclusive_range_and_leaves_notes_out() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let s = session.to_str().unwrap();
    assert_eq!(
        picked(&fixcat(&["--seq", "2..2", s], b"")),
        ["in D2", "out 82", "resend 82"]
    );
    assert_eq!(picked(&fixcat(&["--seq", "3..", s], b"")), ["in D3"]);
    assert_eq!(
        picked(&fixcat(&["--seq", "..1", s], b"")),
        ["in A1", "out A1"]
    );
    assert_eq!(
        picked(&fixcat(&["--seq", "2..3", "--dir", "in", s], b"")),
        ["in D2", "in D3"]
    );
}

#[test]
fn since_and_until_select_by_the_record_time() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let s = session.to_str().unwrap();
    let ran = fixcat(
        &[
            "--since",
            "20261203-15:50:35",
            "--until",
            "20261203-15:50:36.5",
            s,
        ],
        b"",
    );
    assert_eq!(picked(&ran), ["in D3", "garbled"]);
    // --until keeps everything within the last digit it gives: the records of
    // 15:50:37 are at .000001 past it.
    let ran = fixcat(
        &["--since=20261203-15:50:37", "--until=20261203-15:50:37", s],
        b"",
    );
    assert_eq!(picked(&ran), ["note"]);
    // A day: all of it, whatever the hour.
    assert!(
        fixcat(&["--until", "20261202", s], b"")
            .ok()
            .stdout
            .is_empty()
    );
    assert_eq!(
        fixcat(&["--until", "20261203", s], b"").ok().lines().len(),
        8
    );
    assert_eq!(
        fixcat(&["--since", "20261203", s], b"").ok().lines().len(),
        8
    );

    // HH:MM:SS is that time today (UTC): a record of today passes, an older not.
    let mut today = String::new();
    let today_log = dir.path().join("today.log");
    for _ in 0..3 {
        let mut stamp = Vec::new();
        UtcTimestamp::from_system_time(std::time::SystemTime::now())
            .write_to(TimePrecision::Seconds, &mut stamp);
        today = String::from_utf8(stamp[..8].to_vec()).unwrap();
        let late = format!("{today}-23:59:59.500000");
        let old = record("20200101-12:00:00.000000", "note", b"long ago", "");
        let log = [old, record(&late, "note", b"late today", "")].concat();
        std::fs::write(&today_log, log).unwrap();
        let ran = fixcat(&["--since", "00:00:00", today_log.to_str().unwrap()], b"");
        // Run again if midnight passed between writing the record and reading it.
        if ran.status.success() && !ran.stdout.is_empty() {
            assert_eq!(ran.lines(), [format!("{late} note late today")]);
            break;
        }
        today.clear();
    }
    assert!(
        !today.is_empty(),
        "a record of today never passed --since 00:00:00"
    );
}

#[test]
fn field_filter_needs_every_field_given() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let s = session.to_str().unwrap();
    assert_eq!(
        picked(&fixcat(&["--field", "11=ORD-7", s], b"")),
        ["in D2", "out 82", "resend 82"]
    );
    assert_eq!(
        picked(&fixcat(&["--field", "11=ORD-7", "--field", "35=D", s], b"")),
        ["in D2"]
    );
    assert_eq!(picked(&fixcat(&["--field", "54=2", s], b"")), ["in D3"]);
    assert!(
        fixcat(&["--field", "11=ORD", s], b"")
            .ok()
            .stdout
            .is_empty()
    );
}

#[test]
fn dir_filter_groups_received_and_sent_records() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let s = session.to_str().unwrap();
    assert_eq!(
        picked(&fixcat(&["--dir", "in", s], b"")),
        ["in A1", "in D2", "in D3", "garbled", "note"]
    );
    assert_eq!(
        picked(&fixcat(&["--dir", "out", s], b"")),
        ["out A1", "out 82", "note", "resend 82"]
    );
    // A raw capture's frames have no direction: no --dir matches them.
    let capture = dir.path().join("capture.bin");
    std::fs::write(&capture, msg(&[(35, "0"), (34, "5")])).unwrap();
    let c = capture.to_str().unwrap();
    assert_eq!(fixcat(&[c], b"").ok().lines().len(), 1);
    assert!(fixcat(&["--dir", "in", c], b"").ok().stdout.is_empty());
    assert!(fixcat(&["--dir", "out", c], b"").ok().stdout.is_empty());
}

#[test]
fn pretty_names_the_session_fields_without_a_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let ran = fixcat(
        &[
            "--pretty",
            "--type",
            "D",
            "--seq",
            "2",
            session.to_str().unwrap(),
        ],
        b"",
    );
    let text = &ran.ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "20261203-15:50:33.000001 in D NewOrderSingle seq 2",
        "{text}"
    );
    let field = |tag: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(tag))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("no field {tag} in {text}"))
    };
    assert_eq!(field("35"), "35 MsgType D (NewOrderSingle)");
    assert_eq!(field("49"), "49 SenderCompID TW");
    assert_eq!(field("52"), "52 SendingTime 20261203-15:50:33.000");
    // Not a session field: no name without a dictionary.
    assert_eq!(field("54"), "54 1");
    assert!(text.ends_with("\n\n"), "a blank line after each message");
}

#[test]
fn pretty_takes_names_from_a_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let dict = dir.path().join("FIX44.xml");
    std::fs::write(
        &dict,
        r"<fix major='4' minor='4'>
 <header><field name='BeginString' required='Y'/></header>
 <trailer/>
 <messages>
  <message name='NewOrderSingle' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/><field name='Side' required='Y'/><field name='Symbol' required='Y'/>
  </message>
  <message name='ExecutionReport' msgtype='8' msgcat='app'><field name='OrdStatus' required='Y'/></message>
 </messages>
 <fields>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/><field number='55' name='Symbol' type='STRING'/>
  <field number='39' name='OrdStatus' type='CHAR'><value enum='0' description='NEW'/></field>
  <field number='54' name='Side' type='CHAR'><value enum='1' description='BUY'/><value enum='2' description='SELL'/></field>
 </fields>
</fix>",
    )
    .unwrap();
    let ran = fixcat(
        &[
            "--pretty",
            "--dict",
            dict.to_str().unwrap(),
            "--type",
            "D,8",
            session.to_str().unwrap(),
        ],
        b"",
    );
    let text = &ran.ok().stdout;
    let squeezed: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for want in [
        "54 Side 1 (BUY)",
        "54 Side 2 (SELL)",
        "11 ClOrdID ORD-7",
        "39 OrdStatus 0 (NEW)",
        // The built-in names stand in for what the dictionary leaves out.
        "49 SenderCompID TW",
        "35 MsgType 8 (ExecutionReport)",
    ] {
        assert!(squeezed.iter().any(|l| l == want), "no {want:?} in\n{text}");
    }
    // A dictionary that is not one is a usage error naming it.
    std::fs::write(&dict, "<nofix/>").unwrap();
    let ran = fixcat(
        &[
            "--pretty",
            "--dict",
            dict.to_str().unwrap(),
            session.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(ran.status.code(), Some(2), "{ran:?}");
    assert!(ran.stderr.contains("FIX44.xml"), "{}", ran.stderr);
}

#[test]
fn json_is_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let ran = fixcat(&["--json", session.to_str().unwrap()], b"");
    let lines = ran.ok().lines();
    assert_eq!(lines.len(), 8);
    let objects: Vec<Json> = lines.iter().map(|l| Json::parse(l)).collect();
    let order = &objects[2];
    assert_eq!(
        order.get("time"),
        &Json::Str("20261203-15:50:33.000001".into())
    );
    assert_eq!(order.get("kind"), &Json::Str("in".into()));
    assert_eq!(order.get("dir"), &Json::Str("in".into()));
    assert_eq!(order.get("type"), &Json::Str("D".into()));
    assert_eq!(order.get("seq"), &Json::Num(2.0));
    let Json::Arr(fields) = order.get("fields") else {
        panic!("fields is not an array: {}", lines[2]);
    };
    let pairs: Vec<(f64, String)> = fields
        .iter()
        .map(|f| match f {
            Json::Arr(pair) => match pair.as_slice() {
                [Json::Num(tag), Json::Str(value)] => (*tag, value.clone()),
                _ => panic!("not a [tag, value] pair: {f:?}"),
            },
            _ => panic!("not a pair: {f:?}"),
        })
        .collect();
    assert_eq!(pairs[0], (8.0, "FIX.4.4".to_owned()));
    assert_eq!(pairs[2], (35.0, "D".to_owned()));
    assert!(pairs.contains(&(11.0, "ORD-7".to_owned())));
    assert_eq!(pairs.last().unwrap().0, 10.0);
    let garbled = &objects[5];
    assert_eq!(garbled.get("kind"), &Json::Str("garbled".into()));
    assert_eq!(
        garbled.get("note"),
        &Json::Str("BodyLength(9) is not a number".into())
    );
    assert_eq!(garbled.get("seq"), &Json::Null);
    let note = &objects[6];
    assert_eq!(note.get("dir"), &Json::Null);
    assert_eq!(note.get("text"), &Json::Str("2 messages not logged".into()));
    assert_eq!(objects[7].get("dir"), &Json::Str("out".into()));

    // Quotes, newlines and bytes that are not UTF-8 stay valid JSON.
    let odd = dir.path().join("odd.log");
    let text = session_msg(
        true,
        "B",
        9,
        "20261203-15:50:40",
        &[(58, "say \"hi\"\nnow"), (148, "caf\u{e9}")],
    );
    let mut latin1 = text.clone();
    let at = latin1
        .windows(5)
        .position(|w| w == "caf\u{e9}".as_bytes())
        .unwrap();
    latin1.splice(at + 3..at + 5, [0xe9]);
    std::fs::write(
        &odd,
        [
            record("20261203-15:50:40.000000", "in", &text, ""),
            record("20261203-15:50:41.000000", "in", &latin1, ""),
        ]
        .concat(),
    )
    .unwrap();
    let ran = fixcat(&["--json", odd.to_str().unwrap()], b"");
    let values: Vec<Json> = ran.ok().lines().iter().map(|l| Json::parse(l)).collect();
    let value = |o: &Json, tag: f64| match o.get("fields") {
        Json::Arr(fields) => fields
            .iter()
            .find_map(|f| match f {
                Json::Arr(p) if p[0] == Json::Num(tag) => Some(p[1].clone()),
                _ => None,
            })
            .unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(value(&values[0], 58.0), Json::Str("say \"hi\"\nnow".into()));
    assert_eq!(value(&values[0], 148.0), Json::Str("caf\u{e9}".into()));
    // Read as Latin-1: the byte 0xE9 is U+00E9.
    assert_eq!(value(&values[1], 148.0), Json::Str("caf\u{e9}".into()));
    assert!(ran.stdout.contains("caf\\u00e9"), "{}", ran.stdout);
}

#[test]
fn a_torn_last_record_is_skipped_silently_and_junk_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("20261203-001.log");
    let records = sample_records();
    let mut bytes = [
        &records[0][..],
        &b"not a record\n"[..],
        &records[1],
        &b"more junk\n"[..],
        &records[2],
    ]
    .concat();
    // A log killed while writing its last record: cut short, no newline.
    bytes.extend_from_slice(&records[3][..40]);
    std::fs::write(&log, &bytes).unwrap();
    let ran = fixcat(&[log.to_str().unwrap()], b"");
    assert_eq!(picked(&ran), ["in A1", "out A1", "in D2"]);
    assert_eq!(
        ran.stderr.lines().count(),
        1,
        "one warning per file: {}",
        ran.stderr
    );
    assert!(ran.stderr.contains("not a log record") && ran.stderr.contains("20261203-001.log"));

    // A file being written: its end is zeros, after the last record.
    let live = [&records[0][..], &records[1], &vec![0u8; 10_000]].concat();
    std::fs::write(&log, live).unwrap();
    let ran = fixcat(&[log.to_str().unwrap()], b"");
    assert_eq!(picked(&ran), ["in A1", "out A1"]);
    assert_eq!(ran.stderr, "");
    // A record cut short by a crash and ended with a newline when the log was
    // opened again is the last line of its file: skipped silently too.
    let ended = [&records[0][..], &records[1][..50], &b"\n"[..]].concat();
    std::fs::write(&log, ended).unwrap();
    let ran = fixcat(&[log.to_str().unwrap()], b"");
    assert_eq!(picked(&ran), ["in A1"]);
    assert_eq!(ran.stderr, "");
}

#[test]
fn a_raw_capture_is_cut_into_frames() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.bin");
    let one = msg(&[
        (35, "0"),
        (49, "A"),
        (56, "B"),
        (34, "5"),
        (52, "20261203-15:50:31.000"),
    ]);
    let two = msg(&[
        (35, "D"),
        (49, "A"),
        (56, "B"),
        (34, "6"),
        (52, "20261203-15:50:40.000"),
        (11, "X"),
    ]);
    std::fs::write(&capture, [&b"junk"[..], &one[..], &two[..]].concat()).unwrap();
    let c = capture.to_str().unwrap();
    let ran = fixcat(&[c], b"");
    let lines = ran.ok().lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        format!(
            "? ? {}",
            String::from_utf8(one.clone()).unwrap().replace('\x01', "|")
        )
    );
    assert!(lines[1].starts_with("? ? 8=FIX.4.4|") && lines[1].contains("|11=X|"));
    assert!(
        ran.stderr.contains("skipped 4 bytes at byte 0"),
        "{}",
        ran.stderr
    );
    // No time of their own: SendingTime(52) places them.
    assert_eq!(
        picked(&fixcat(&["--since", "20261203-15:50:35", c], b"")),
        ["? D6"]
    );
    assert_eq!(picked(&fixcat(&["--type", "0", c], b"")), ["? 05"]);
}

#[test]
fn stdin_is_read_as_a_log_or_raw_by_its_first_bytes() {
    let log = sample_records().concat();
    let ran = fixcat(&[], &log);
    assert_eq!(ran.ok().lines().len(), 8);
    let dash = fixcat(&["--type", "D", "-"], &log);
    assert_eq!(picked(&dash), ["in D2", "in D3"]);
    // `cat` of a file being written, then another: zeros between records.
    let records = sample_records();
    let catted = [&records[0][..], &[0u8; 300][..], &records[1]].concat();
    assert_eq!(picked(&fixcat(&[], &catted)), ["in A1", "out A1"]);

    let raw = [msg(&[(35, "0"), (34, "1")]), msg(&[(35, "1"), (34, "2")])].concat();
    let ran = fixcat(&["--json"], &raw);
    let objects: Vec<Json> = ran.ok().lines().iter().map(|l| Json::parse(l)).collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[1].get("type"), &Json::Str("1".into()));
    assert_eq!(objects[1].get("time"), &Json::Null);
    assert_eq!(objects[1].get("kind"), &Json::Str("?".into()));
}

#[test]
fn usage_errors_name_the_argument_and_exit_2() {
    for (args, names) in [
        (&["--seq", "x..3"][..], "--seq"),
        (&["--seq", "5..3"], "--seq"),
        (&["--since", "yesterday"], "--since yesterday"),
        (&["--field", "11"], "--field 11"),
        (&["--field", "abc=1"], "--field abc=1"),
        (&["--dir", "up"], "--dir up"),
        (&["--bogus"], "--bogus"),
        (&["--type"], "--type needs a value"),
        (&["--pretty", "--json"], "--pretty and --json"),
        (&["--pretty=yes"], "--pretty takes no value"),
        (&["-f", "a", "b"], "--follow"),
        (&["store"], "fixcat store DIR"),
        (
            &["store", "x", "--set-next-sender", "0"],
            "--set-next-sender 0",
        ),
    ] {
        let ran = fixcat(args, b"");
        assert_eq!(ran.status.code(), Some(2), "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(names), "{args:?}: {}", ran.stderr);
        assert!(ran.stdout.is_empty());
    }
    let help = fixcat(&["--help"], b"");
    assert!(help.ok().stdout.contains("--follow") && help.stdout.contains("fixcat store"));
    let ran = fixcat(&["/no/such/file"], b"");
    assert_eq!(ran.status.code(), Some(1), "{ran:?}");
    assert!(ran.stderr.contains("/no/such/file"), "{}", ran.stderr);
}

/// Kills the child when dropped, so that a failing test leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn follow_prints_records_as_a_log_folder_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let messages = dir.path().join("messages");
    std::fs::create_dir(&messages).unwrap();
    let first = messages.join("20261203-001.log");
    let records = sample_records();
    // As the engine writes: records, then the zeros allocated ahead of them.
    let image = [&records[0][..], &vec![0u8; 8192]].concat();
    std::fs::write(&first, &image).unwrap();

    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_fixcat"))
            .args(["-f", "--type", "A,D,8", dir.path().to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (tx, lines) = mpsc::channel();
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || {
        let line = lines
            .recv_timeout(LIMIT)
            .expect("a followed record within the limit");
        line.split('|')
            .find_map(|f| f.strip_prefix("34="))
            .unwrap()
            .to_owned()
            + line.split('|').find_map(|f| f.strip_prefix("35=")).unwrap()
    };
    assert_eq!(next(), "1A");

    // The next record written into the zeros, in place as through the
    // engine's map, in two steps, as a reader may catch a copy half done:
    // nothing is printed until it is whole.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap();
    let mut at = records[0].len() as u64;
    file.write_all_at(&records[1][..20], at).unwrap();
    thread::sleep(Duration::from_millis(500));
    file.write_all_at(&records[1][20..], at + 20).unwrap();
    assert_eq!(next(), "1A");

    // The file is closed (cut to its text) with a last record, and the next
    // one started: fixcat finishes the first, then moves on.
    at += records[1].len() as u64;
    file.write_all_at(&records[2], at).unwrap();
    file.set_len(at + records[2].len() as u64).unwrap();
    drop(file);
    std::fs::write(
        messages.join("20261203-002.log"),
        [&records[3][..], &records[4], &vec![0u8; 4096]].concat(),
    )
    .unwrap();
    assert_eq!(next(), "2D");
    assert_eq!(next(), "28");
    assert_eq!(next(), "3D");
    // A new day's file.
    std::fs::write(messages.join("20261204-001.log"), &records[7]).unwrap();
    assert_eq!(next(), "28");
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "fixcat -f keeps running until stopped"
    );
}

/// A store of session FIX.4.4-ISLD-TW under `root` with messages 1..=3 sent
/// (SendingTime 15:50:31..33), next target 8, closed; its folder.
fn sample_store(root: &Path) -> PathBuf {
    let mut store = FileStore::open(root, "FIX.4.4-ISLD-TW", FileStoreOptions::default()).unwrap();
    for seq in 1..=3u64 {
        let time = format!("20261203-15:50:{}.123", 30 + seq);
        let frame = session_msg(false, "8", seq, &time, &[(11, "ORD-7")]);
        store.append(seq, &frame).unwrap();
    }
    store.set_next_target_seq(8).unwrap();
    store.sync().unwrap();
    store.dir().to_path_buf()
}

/// The value on the line of `fixcat store` that starts with `name`.
fn state<'a>(ran: &'a Ran, name: &str) -> &'a str {
    ran.stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name:?} in\n{}", ran.stdout))
}

#[test]
fn store_shows_the_state_of_a_store() {
    let root = tempfile::tempdir().unwrap();
    let dir = sample_store(root.path());
    let d = dir.to_str().unwrap();
    let ran = fixcat(&["store", d], b"");
    ran.ok();
    assert_eq!(state(&ran, "session key"), "FIX.4.4-ISLD-TW");
    assert_eq!(state(&ran, "next sender seq"), "4");
    assert_eq!(state(&ran, "next target seq"), "8");
    assert_eq!(state(&ran, "messages"), "3, MsgSeqNum 1..3");
    assert!(state(&ran, "generation").starts_with("1, begun "));
    assert_eq!(state(&ran, "segments"), "1");
    assert!(
        state(&ran, "0000000001.log").contains("3 messages"),
        "{}",
        ran.stdout
    );
    assert_eq!(state(&ran, "archived"), "none");
    assert!(state(&ran, "last write").ends_with(" UTC"));

    // Read as an input: the messages it sent, at their SendingTime.
    let listed = fixcat(&[d], b"");
    assert_eq!(picked(&listed), ["out 81", "out 82", "out 83"]);
    assert!(listed.lines()[0].starts_with("20261203-15:50:31.123000 out 8=FIX.4.4|"));
    assert_eq!(picked(&fixcat(&["--seq", "2", d], b"")), ["out 82"]);

    // A folder that is no store is named.
    let ran = fixcat(&["store", root.path().to_str().unwrap()], b"");
    assert_eq!(ran.status.code(), Some(2), "{ran:?}");
    assert!(
        ran.stderr.contains("not a session's store folder"),
        "{}",
        ran.stderr
    );
}

#[test]
fn store_set_changes_a_stopped_sessions_numbers_and_is_refused_while_it_runs() {
    let root = tempfile::tempdir().unwrap();
    let dir = sample_store(root.path());
    let d = dir.to_str().unwrap();
    let ran = fixcat(
        &[
            "store",
            d,
            "--set-next-sender",
            "10",
            "--set-next-target=20",
        ],
        b"",
    );
    ran.ok();
    assert!(
        ran.stdout.contains("set next sender seq: 4 -> 10"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("set next target seq: 8 -> 20"),
        "{}",
        ran.stdout
    );
    assert_eq!(state(&ran, "next sender seq"), "10");
    let store =
        FileStore::open(root.path(), "FIX.4.4-ISLD-TW", FileStoreOptions::default()).unwrap();
    assert_eq!((store.next_sender_seq(), store.next_target_seq()), (10, 20));

    // While the session is open (here the test holds its store, as an engine
    // would): reading works, changing is refused and changes nothing.
    let ran = fixcat(&["store", d], b"");
    assert_eq!(state(ran.ok(), "next target seq"), "20");
    let ran = fixcat(&["store", d, "--set-next-target", "5"], b"");
    assert_eq!(ran.status.code(), Some(1), "{ran:?}");
    assert!(
        ran.stderr.contains("the session is open in an engine"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("Stop the session first"),
        "{}",
        ran.stderr
    );
    assert_eq!(store.next_target_seq(), 20);
    drop(store);
    let store =
        FileStore::open(root.path(), "FIX.4.4-ISLD-TW", FileStoreOptions::default()).unwrap();
    assert_eq!((store.next_sender_seq(), store.next_target_seq()), (10, 20));
    drop(store);

    // Below the stored messages the store would not keep it: refused, named.
    let ran = fixcat(&["store", d, "--set-next-sender", "3"], b"");
    assert_eq!(ran.status.code(), Some(2), "{ran:?}");
    assert!(ran.stderr.contains("up to MsgSeqNum 3"), "{}", ran.stderr);
}

/// Runs fixcat with `args` until `done` holds for what it printed, or the
/// limit passes: for a log the engine writes as we read.
fn fixcat_until(args: &[&str], done: impl Fn(&Ran) -> bool) -> Ran {
    let started = Instant::now();
    loop {
        let ran = fixcat(args, b"");
        if done(&ran) || started.elapsed() > LIMIT {
            return ran;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn reads_what_a_running_engine_writes() {
    let (mut engine, addr) = engine_with(config());
    let session = common::session(&engine, OrderApp::default());
    let folder = engine
        .root()
        .join(folder_name("FIX.4.4-TEST1-TEST2").unwrap());
    let f = folder.to_str().unwrap();
    let mut client = initiator(addr);
    client.logon(30);
    for id in ["ORD-1", "ORD-2"] {
        client.send(&order(id));
        client.expect("8");
    }
    // While the session runs: its log (ending in zeros), and its store.
    let ran = fixcat_until(&["--type", "D,8", f], |r| r.lines().len() == 4);
    assert_eq!(picked(&ran), ["in D2", "out 82", "in D3", "out 83"]);
    assert_eq!(ran.stderr, "");
    let ran = fixcat(&["--field", "11=ORD-2", "--dir", "out", "--json", f], b"");
    let objects: Vec<Json> = ran.ok().lines().iter().map(|l| Json::parse(l)).collect();
    assert_eq!(objects.len(), 1, "{ran:?}");
    assert_eq!(objects[0].get("type"), &Json::Str("8".into()));
    let ran = fixcat(&["store", f], b"");
    assert_eq!(state(ran.ok(), "session key"), "FIX.4.4-TEST1-TEST2");
    assert_eq!(state(&ran, "next sender seq").split(' ').next(), Some("4"));
    assert_eq!(state(&ran, "next target seq"), "4");
    let refused = fixcat(&["store", f, "--set-next-target", "9"], b"");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");

    client.logout();
    drop(session);
    engine.shutdown();
    // Stopped: the log is cut to its text, the numbers can be changed.
    let ran = fixcat(&["--type", "A,5", f], b"");
    assert_eq!(picked(&ran), ["in A1", "out A1", "in 54", "out 54"]);
    let ran = fixcat(&["store", f, "--set-next-target", "9"], b"");
    assert_eq!(state(ran.ok(), "next target seq"), "9");
}

/// A JSON value, parsed by hand (the crate has no JSON dependency), enough to
/// check the structure of `--json`'s lines.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Arr(Vec<Self>),
    Obj(Vec<(String, Self)>),
}

impl Json {
    #[track_caller]
    fn parse(text: &str) -> Self {
        let mut p = JsonParser {
            s: text.as_bytes(),
            at: 0,
        };
        let v = p.value();
        assert_eq!(p.at, p.s.len(), "trailing bytes in {text}");
        v
    }

    #[track_caller]
    fn get(&self, key: &str) -> &Self {
        match self {
            Self::Obj(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no {key:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    at: usize,
}

impl JsonParser<'_> {
    fn peek(&self) -> u8 {
        *self.s.get(self.at).expect("JSON cut short")
    }

    fn eat(&mut self, b: u8) {
        assert_eq!(
            self.peek(),
            b,
            "at byte {} of {}",
            self.at,
            String::from_utf8_lossy(self.s)
        );
        self.at += 1;
    }

    fn value(&mut self) -> Json {
        match self.peek() {
            b'n' => {
                assert!(self.s[self.at..].starts_with(b"null"));
                self.at += 4;
                Json::Null
            }
            b'"' => Json::Str(self.string()),
            b'[' => {
                self.eat(b'[');
                let mut items = Vec::new();
                while self.peek() != b']' {
                    if !items.is_empty() {
                        self.eat(b',');
                    }
                    items.push(self.value());
                }
                self.eat(b']');
                Json::Arr(items)
            }
            b'{' => {
                self.eat(b'{');
                let mut members = Vec::new();
                while self.peek() != b'}' {
                    if !members.is_empty() {
                        self.eat(b',');
                    }
                    let key = self.string();
                    self.eat(b':');
                    members.push((key, self.value()));
                }
                self.eat(b'}');
                Json::Obj(members)
            }
            _ => {
                let start = self.at;
                while self.at < self.s.len() && b"-+.eE0123456789".contains(&self.s[self.at]) {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.at]).unwrap();
                Json::Num(
                    text.parse()
                        .unwrap_or_else(|_| panic!("not a number: {text:?}")),
                )
            }
        }
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let rest = std::str::from_utf8(&self.s[self.at..]).unwrap();
            let c = rest.chars().next().expect("unterminated string");
            self.at += c.len_utf8();
            match c {
                '"' => return out,
                '\\' => {
                    let e = self.peek();
                    self.at += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.at..self.at + 4]).unwrap();
                            self.at += 4;
                            out.push(
                                char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap(),
                            );
                        }
                        _ => panic!("bad escape \\{}", e as char),
                    }
                }
                c if (c as u32) < 0x20 => panic!("raw control character in a JSON string"),
                c => out.push(c),
            }
        }
    }
}
