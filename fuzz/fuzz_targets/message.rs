//! Decoder and views: arbitrary bytes taken as one frame (an SOH appended if the
//! input does not end with one), decoded, every accessor of `MessageView`, `Fields`,
//! `Group` and `GroupEntry` called, then copied into an owned `Message` and encoded.
//!
//! Asserts: no panic; `get(t)` is the first of `get_all(t)`; `iter()` yields `len()`
//! fields; `Message::encode` returns the bytes it wrote; when `Message::validate`
//! passes, the encoded bytes are one complete frame for `Framer::default()`.

#![no_main]

use fixengine::{Decoder, Fields, FixVersion, Framer, Message, MessageView, Status, tags};
use libfuzzer_sys::fuzz_target;

/// Tags always probed, besides those found in the message.
const PROBES: &[u32] = &[
    0,
    tags::BEGIN_STRING,
    tags::BODY_LENGTH,
    tags::CHECK_SUM,
    tags::MSG_SEQ_NUM,
    tags::MSG_TYPE,
    tags::POSS_DUP_FLAG,
    tags::SENDER_COMP_ID,
    tags::SENDING_TIME,
    tags::TARGET_COMP_ID,
    tags::POSS_RESEND,
    tags::ORIG_SENDING_TIME,
    tags::PRICE,
    tags::TEXT,
    tags::RAW_DATA,
    tags::PASSWORD,
    u32::MAX,
];

/// Every typed getter of `Fields` on one tag.
fn probe<'a>(f: &impl Fields<'a>, tag: u32) {
    let first = f.get(tag);
    assert_eq!(
        first,
        f.get_all(tag).next(),
        "get({tag}) is not the first of get_all({tag})"
    );
    assert_eq!(f.contains(tag), first.is_some());
    let _ = f.get_bytes(tag);
    let _ = f.get_all(tag).count();
    let _ = f.get_str(tag);
    let _ = f.get_int(tag);
    let _ = f.get_u64(tag);
    let _ = f.get_seq_num(tag);
    let _ = f.get_bool(tag);
    let _ = f.get_char(tag);
    if let Ok(ts) = f.get_timestamp(tag) {
        let _ = ts.to_string();
    }
    if let Err(e) = f.get_decimal(tag) {
        let _ = e.to_string();
        let _ = e.tag();
    }
}

fn exercise_groups<'a>(view: &MessageView<'a>, tags_seen: &[u32]) {
    let mut lists: Vec<(u32, Vec<u32>)> = vec![
        (tags::NO_MSG_TYPES, vec![tags::REF_MSG_TYPE, tags::MSG_DIRECTION]),
        (
            tags::NO_HOPS,
            vec![tags::HOP_COMP_ID, tags::HOP_SENDING_TIME, tags::HOP_REF_ID],
        ),
        (tags::NO_MSG_TYPES, vec![]),
    ];
    // Any tag of the message as a count, the tags after it as members.
    for (i, &t) in tags_seen.iter().enumerate().take(4) {
        let members: Vec<u32> = tags_seen[i + 1..].iter().copied().take(3).collect();
        lists.push((t, members));
    }
    for (count_tag, members) in &lists {
        match view.group(*count_tag, members) {
            Ok(group) => {
                let n = group.len();
                let _ = group.is_empty();
                let _ = format!("{group:?}");
                let mut seen = 0;
                for entry in group {
                    seen += 1;
                    let _ = format!("{entry:?}");
                    let fields: Vec<_> = entry.iter().collect();
                    assert_eq!(fields.len(), entry.iter().len());
                    for &m in members.iter().chain(PROBES.iter().take(3)) {
                        probe(&entry, m);
                    }
                    // Nested: the entry's own fields as a group.
                    if let Some(first) = fields.first() {
                        let _ = entry.group(first.tag, &members[..]);
                    }
                }
                assert_eq!(seen, n);
            }
            Err(e) => {
                let _ = e.to_string();
                let _ = e.tag();
            }
        }
    }
}

fn exercise(view: &MessageView<'_>) {
    let _ = view.frame();
    let n = view.len();
    assert_eq!(view.is_empty(), n == 0);
    assert_eq!(view.iter().count(), n);
    assert_eq!(view.iter().len(), n);
    let _ = view.begin_string();
    let _ = view.msg_type();
    let _ = view.msg_seq_num();
    let _ = view.sender_comp_id();
    let _ = view.target_comp_id();
    if let Ok(ts) = view.sending_time() {
        let _ = ts.to_string();
    }
    let _ = view.is_poss_dup();
    let _ = view.is_poss_resend();
    let _ = view.is_admin();
    if let Some(p) = view.problem() {
        let _ = p.to_string();
    }
    let body = view.body();
    let body_len = body.len();
    let _ = format!("{body:?}");
    assert_eq!(body.count(), body_len);
    let _ = format!("{view:?}");

    let mut tags_seen: Vec<u32> = view.iter().map(|f| f.tag).collect();
    for &t in PROBES {
        probe(view, t);
    }
    tags_seen.truncate(64);
    for &t in &tags_seen {
        probe(view, t);
    }
    exercise_groups(view, &tags_seen);
}

fuzz_target!(|data: &[u8]| {
    let mut frame = data.to_vec();
    if frame.last() != Some(&0x01) {
        frame.push(0x01);
    }
    let mut decoder = Decoder::new();
    let view = match decoder.decode(&frame) {
        Ok(view) => view,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    exercise(&view);

    let message = Message::from(&view);
    let _ = format!("{message:?}");
    let _ = message.msg_type();
    let _ = message.is_admin();
    let _ = message.len();
    let _ = message.is_empty();
    let _ = message.fields().count();

    let mut out = Vec::new();
    let written = message.encode(FixVersion::Fix44, &[], &mut out);
    assert_eq!(written, out.len(), "encode returned {written}, wrote {}", out.len());
    if message.validate().is_ok() {
        assert_eq!(
            Framer::default().parse(&out),
            Ok(Status::Complete(out.len())),
            "valid {message:?} encoded as {out:?} does not frame"
        );
    }
});
