//! Reading a raw capture: FIX frames back to back (a file, stdin), cut with
//! the crate's [`Framer`]; bytes that do not frame are reported on stderr and
//! skipped. A frame's direction and time are unknown.

use std::io::{self, Read, Write};
use std::path::Path;

use fixengine::{Framer, Status};

use crate::Fail;
use crate::item::{Item, Kind};
use crate::output::Printer;

/// How many stretches of garbled bytes are reported one by one per input;
/// the rest are counted.
const REPORTED: u32 = 5;

/// Prints the frames of `input`, of which `buf` holds the first bytes already
/// read. It reads in chunks, as a socket delivers bytes: the framer resumes
/// across reads.
pub(crate) fn read<R: Read, W: Write>(
    name: &Path,
    mut input: R,
    mut buf: Vec<u8>,
    printer: &mut Printer<W>,
) -> Result<(), Fail> {
    let framer = Framer::default();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    let (mut garbled, mut garbled_bytes) = (0u32, 0u64);
    let mut eof = false;
    loop {
        let mut start = 0;
        loop {
            match framer.parse(&buf[start..]) {
                Ok(Status::Complete(len)) => {
                    printer.emit(Item {
                        time: None,
                        kind: Kind::Unknown,
                        bytes: &buf[start..start + len],
                        note: b"",
                    })?;
                    start += len;
                }
                Ok(Status::Partial(_)) => break,
                Err(g) => {
                    garbled += 1;
                    garbled_bytes += g.len as u64;
                    if garbled <= REPORTED {
                        eprintln!(
                            "fixcat: {}: skipped {} bytes at byte {}: {}",
                            name.display(),
                            g.len,
                            offset + start as u64,
                            g.error
                        );
                    }
                    start += g.len;
                }
            }
        }
        buf.drain(..start);
        offset += start as u64;
        if eof {
            break;
        }
        // A pipe may pause for long (`tail -f log | fixcat`): what is printed
        // so far goes out before waiting on it.
        printer.flush()?;
        match input.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fail::input(name, e)),
        }
    }
    if garbled > REPORTED {
        eprintln!(
            "fixcat: {}: {} stretches of bytes that are not FIX frames skipped in all ({garbled_bytes} bytes)",
            name.display(),
            garbled
        );
    }
    if !buf.is_empty() {
        eprintln!(
            "fixcat: {}: {} bytes of an incomplete frame at the end, skipped",
            name.display(),
            buf.len()
        );
    }
    Ok(())
}
