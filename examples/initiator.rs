//! A minimal FIX initiator to try the example acceptor with: logs on as TEST2 to
//! TEST1 (FIX.4.4), sends NewOrderSingles, prints what comes back, logs out.
//!
//! ```sh
//! cargo run --release --example acceptor &                 # in one terminal
//! cargo run --release --example initiator -- 127.0.0.1:9880 3
//! ```
//!
//! Arguments: the acceptor's address (default 127.0.0.1:9880) and the number of
//! orders (default 1). It keeps no state: every run logs on with
//! ResetSeqNumFlag(141)=Y, so both sides start again at 1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use fixengine::{
    Decoder, FixVersion, Framer, Message, Status, TimePrecision, UtcTimestamp, codec, msg_type,
    tags,
};

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    seq: u64,
}

impl Client {
    #[allow(clippy::disallowed_methods)] // a program, not the library: it reads the clock
    fn send(&mut self, message: &Message) -> std::io::Result<()> {
        let mut time = [0u8; codec::MAX_TIMESTAMP_LEN];
        let time = UtcTimestamp::from_system_time(SystemTime::now())
            .format(TimePrecision::Millis, &mut time)
            .to_vec();
        let seq = self.seq.to_string();
        let header: [(u32, &[u8]); 4] = [
            (tags::MSG_SEQ_NUM, seq.as_bytes()),
            (tags::SENDER_COMP_ID, b"TEST2"),
            (tags::SENDING_TIME, &time),
            (tags::TARGET_COMP_ID, b"TEST1"),
        ];
        let mut wire = Vec::new();
        message.encode(FixVersion::Fix44, &header, &mut wire);
        self.seq += 1;
        println!("> {}", printable(&wire));
        self.stream.write_all(&wire)
    }

    /// The next message, as wire bytes; `None` when the acceptor closed.
    fn recv(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            match Framer::default().parse(&self.buf) {
                Ok(Status::Complete(len)) => {
                    let frame: Vec<u8> = self.buf.drain(..len).collect();
                    println!("< {}", printable(&frame));
                    return Ok(Some(frame));
                }
                Ok(Status::Partial(_)) => {}
                Err(g) => {
                    eprintln!("garbled input: {}", g.error);
                    self.buf.drain(..g.len);
                }
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until a message of type `wanted` arrives.
    fn expect(&mut self, wanted: &[u8]) -> Result<(), String> {
        let mut decoder = Decoder::new();
        loop {
            let frame = self
                .recv()
                .map_err(|e| e.to_string())?
                .ok_or("the acceptor closed the connection")?;
            let view = decoder.decode(&frame).map_err(|e| e.to_string())?;
            if view.msg_type() == wanted {
                return Ok(());
            }
        }
    }
}

fn printable(frame: &[u8]) -> String {
    String::from_utf8_lossy(frame).replace('\x01', "|")
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9880".to_owned());
    let orders: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    match run(&addr, orders) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("initiator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(addr: &str, orders: u32) -> Result<(), String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut client = Client {
        stream,
        buf: Vec::new(),
        seq: 1,
    };
    let io = |e: std::io::Error| e.to_string();
    client
        .send(
            &Message::new(msg_type::LOGON)
                .with(tags::ENCRYPT_METHOD, 0u32)
                .with(tags::HEART_BT_INT, 30u32)
                .with(tags::RESET_SEQ_NUM_FLAG, true),
        )
        .map_err(io)?;
    client.expect(msg_type::LOGON)?;
    for n in 1..=orders {
        client
            .send(
                &Message::new(msg_type::NEW_ORDER_SINGLE)
                    .with(tags::CL_ORD_ID, format!("ORDER-{n}"))
                    .with(tags::SIDE, '1')
                    .with(tags::SYMBOL, "IBM")
                    .with(tags::TRANSACT_TIME, "20261125-12:00:00.000")
                    .with(tags::ORDER_QTY, 100u32)
                    .with(tags::ORD_TYPE, '2')
                    .with(tags::PRICE, "101.25"),
            )
            .map_err(io)?;
        client.expect(msg_type::EXECUTION_REPORT)?;
    }
    client.send(&Message::new(msg_type::LOGOUT)).map_err(io)?;
    client.expect(msg_type::LOGOUT)?;
    Ok(())
}
