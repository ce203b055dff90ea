//! Streaming framer: arbitrary bytes, cut into arbitrary chunks, fed through the
//! read loop a session runs.
//!
//! Input layout: `[config] [n] [chunk_1 .. chunk_n] stream...`
//! - `config` bits 0-1 pick MaxMessageSize (default 1 MiB, 64, 256, 4096), bit 2
//!   turns CheckSum validation off;
//! - `n % 16` chunk lengths follow, one byte each; the rest of the stream is the
//!   last chunk.
//!
//! Asserts: no panic; `Garbled.len` in `1..=buf.len()`; `Complete(n)` with
//! `1 <= n <= buf.len()`; `Partial(Some(n))` with `n > buf.len()`; the frames cut
//! from the chunked stream are the frames cut from the whole stream at once; every
//! complete frame decodes or gives a `DecodeError`.

#![no_main]

use fixengine::codec::DecodeError;
use fixengine::{Decoder, Framer, Garbled, Status};
use libfuzzer_sys::fuzz_target;

/// Feeds `chunks` one after another and returns the complete frames in order and
/// the bytes left over at the end.
fn run(framer: &Framer, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match framer.parse(&buf) {
                Ok(Status::Complete(n)) => {
                    assert!(n >= 1, "Complete(0) on {buf:?}");
                    assert!(n <= buf.len(), "Complete({n}) > buf.len() {} on {buf:?}", buf.len());
                    frames.push(buf[..n].to_vec());
                    buf.drain(..n);
                }
                Ok(Status::Partial(Some(n))) => {
                    assert!(
                        n > buf.len(),
                        "Partial(Some({n})) but buf.len() is already {} on {buf:?}",
                        buf.len()
                    );
                    break;
                }
                Ok(Status::Partial(None)) => break,
                Err(Garbled { len, error }) => {
                    assert!(len >= 1, "Garbled len 0 ({error:?}) on {buf:?}");
                    assert!(
                        len <= buf.len(),
                        "Garbled len {len} > buf.len() {} ({error:?}) on {buf:?}",
                        buf.len()
                    );
                    // The error must format without panicking.
                    let _ = error.to_string();
                    buf.drain(..len);
                }
            }
        }
    }
    (frames, buf)
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(n % 16).min(rest.len());
    let (sizes, stream) = rest.split_at(n);

    let max = match config & 3 {
        0 => fixengine::codec::DEFAULT_MAX_MESSAGE_SIZE,
        1 => 64,
        2 => 256,
        _ => 4096,
    };
    let validate = config & 4 == 0;
    let framer = if max == fixengine::codec::DEFAULT_MAX_MESSAGE_SIZE && validate {
        Framer::default()
    } else {
        Framer::new(max, validate)
    };

    let mut chunks: Vec<&[u8]> = Vec::with_capacity(n + 1);
    let mut left = stream;
    for &s in sizes {
        let s = usize::from(s).min(left.len());
        let (c, r) = left.split_at(s);
        chunks.push(c);
        left = r;
    }
    chunks.push(left);

    let (streamed, _) = run(&framer, &chunks);
    let (whole, _) = run(&framer, &[stream]);
    assert_eq!(
        streamed, whole,
        "chunked {chunks:?} framed differently from the whole stream"
    );

    let mut decoder = Decoder::new();
    for frame in &whole {
        match decoder.decode(frame) {
            Ok(view) => {
                let _ = view.msg_type();
                let _ = format!("{view:?}");
            }
            Err(e) => {
                let e: DecodeError = e;
                let _ = e.to_string();
            }
        }
    }
});
