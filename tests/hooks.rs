//! The application's hooks over real sockets on 127.0.0.1: `on_admin` sees the
//! session-level messages, `to_admin` adds a venue's tags to the Logon reply and
//! the Logout, `on_resend` keeps a stale order from being sent again.

#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // tests read the clock and unwrap

mod common;

use std::sync::{Arc, Mutex};

use common::{OrderApp, config, engine_with, initiator, order};
use fixengine::{Application, Encoder, Fields, Message, MessageView, Reply, tags};

/// Fills orders (through [`OrderApp`]) and uses every hook.
#[derive(Clone, Default)]
struct Hooked {
    orders: OrderApp,
    admin: Arc<Mutex<Vec<String>>>,
}

impl Application for Hooked {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        self.orders.on_message(message, reply);
    }

    fn on_admin(&mut self, message: &MessageView<'_>) {
        let mt = String::from_utf8_lossy(message.msg_type()).into_owned();
        self.admin.lock().unwrap().push(mt);
    }

    fn to_admin(&mut self, _msg_type: &[u8], body: &mut Encoder<'_>) {
        body.str(5001, "VENUE-1");
    }

    fn on_resend(&mut self, message: &MessageView<'_>) -> bool {
        // Reports for orders marked stale are not sent again.
        message.get(tags::CL_ORD_ID) != Some(&b"STALE"[..])
    }
}

#[test]
fn the_hooks_see_and_shape_the_session_level_traffic() {
    let (engine, addr) = engine_with(config());
    let app = Hooked::default();
    let session = common::session(&engine, app.clone());
    let mut client = initiator(addr);
    let logon = client.logon(30);
    assert_eq!(
        logon.get(5001),
        Some("VENUE-1"),
        "the Logon reply carries it"
    );
    for id in ["FRESH-1", "STALE", "FRESH-2"] {
        client.send(&order(id));
        client.expect("8");
    }
    client.send(
        &Message::new("2")
            .with(tags::BEGIN_SEQ_NO, 2u32)
            .with(tags::END_SEQ_NO, 0u32),
    );
    let resent: Vec<(String, Option<String>)> = (0..3)
        .map(|_| {
            let m = client.recv();
            (
                m.msg_type().to_owned(),
                m.get(tags::CL_ORD_ID).map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        resent,
        [
            ("8".to_owned(), Some("FRESH-1".to_owned())),
            ("4".to_owned(), None),
            ("8".to_owned(), Some("FRESH-2".to_owned())),
        ],
        "the stale report goes out as a GapFill"
    );
    session.disconnect_async("end of day").unwrap();
    let logout = client.expect("5");
    assert_eq!(logout.get(5001), Some("VENUE-1"), "the Logout carries it");
    client.send(&Message::new("5"));
    common::wait_until("the Logout exchange is over", || {
        app.admin.lock().unwrap().last().map(String::as_str) == Some("5")
    });
    assert_eq!(*app.admin.lock().unwrap(), ["A", "2", "5"]);
}
