//! A complete acceptor: the program README.md and the crate's front page show.
//! It accepts the session in which we are TEST1 and the counterparty TEST2, fills
//! every order, and stops on Ctrl-C, SIGTERM or `q`.
//!
//! ```sh
//! RUST_LOG=info cargo run --example quickstart
//! ```

use fixengine::{
    Application, EngineConfig, Fields, FixEngine, FixVersion, Message, MessageView, Reply,
    SessionId, tags,
};

/// Fills every NewOrderSingle at once.
#[derive(Default)]
struct Orders {
    fills: u64,
}

impl Application for Orders {
    // Runs on the session's own thread; a reply goes straight to the wire.
    fn on_message(&mut self, order: &MessageView<'_>, reply: &mut Reply<'_>) {
        if order.msg_type() != b"D" {
            let _ = reply.business_reject(order, 3, "Unsupported Message Type");
            return;
        }
        self.fills += 1;
        let field = |tag| order.get(tag).unwrap_or_default();
        let report = Message::new("8")
            .with(tags::ORDER_ID, self.fills)
            .with(tags::CL_ORD_ID, field(tags::CL_ORD_ID))
            .with(tags::EXEC_ID, self.fills)
            .with(tags::EXEC_TYPE, 'F') // Trade
            .with(tags::ORD_STATUS, '2') // Filled
            .with(tags::SYMBOL, field(tags::SYMBOL))
            .with(tags::SIDE, field(tags::SIDE))
            .with(tags::ORDER_QTY, field(tags::ORDER_QTY))
            .with(tags::LAST_QTY, field(tags::ORDER_QTY))
            .with(tags::LAST_PX, 101.25)
            .with(tags::LEAVES_QTY, 0u32)
            .with(tags::CUM_QTY, field(tags::ORDER_QTY))
            .with(tags::AVG_PX, 101.25)
            .with(tags::TRANSACT_TIME, reply.now_utc());
        if let Err(e) = reply.send(&report) {
            log::error!("ExecutionReport not sent: {e}");
        }
    }
}

fn main() -> Result<(), fixengine::Error> {
    // Without a logger a refused Logon is invisible: the engine says why in its log.
    env_logger::init();
    let engine = FixEngine::new(EngineConfig::default().listen_port(9880))?;
    let session = engine.create_session(
        SessionId::from_static("TEST1", "TEST2"),
        FixVersion::Fix44,
        Orders::default(),
    )?;
    session.connect()?; // Logons from TEST2 to TEST1 are accepted from now on
    // From any thread. Numbered, stored and sent; put while nobody is logged on,
    // see "Messages put while nobody is logged on" in README.md.
    session.put(Message::new("B").with(tags::HEADLINE, "market opens"))?;
    let why = engine.wait_for_shutdown()?; // Ctrl-C, SIGTERM, or q and Enter
    log::info!("stopping: {why}");
    engine.shutdown(); // every session logs out, all at once
    Ok(())
}
