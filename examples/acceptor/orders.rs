//! The example's application: every NewOrderSingle(D) is filled at once with an
//! ExecutionReport(8), without allocating once warm.

use fixengine::{
    Application, FieldValue, Fields, FixEngine, FixVersion, Message, MessageView, Reply, Session,
    SessionId, msg_type, tags,
};

/// Creates and connects the sessions `--session` named or, without it, every
/// session of the configuration, in the version its `BeginString` (and
/// `DefaultApplVerID`) gives, each answering orders. Each validates against the
/// data dictionary its configuration names, if any.
pub(crate) fn create_sessions(
    engine: &FixEngine,
    named: &[(SessionId, FixVersion)],
) -> Result<Vec<Session>, String> {
    let ids: Vec<(SessionId, FixVersion)> = if named.is_empty() {
        let config = engine.config();
        config
            .sessions()
            .map(|(s, t)| {
                let id = SessionId::new(s, t).map_err(|e| e.to_string())?;
                let version = config
                    .session_config(s, t)
                    .fix_version()
                    .map_err(|e| format!("session {id}: {e}"))?;
                Ok((id, version))
            })
            .collect::<Result<_, String>>()?
    } else {
        named.to_vec()
    };
    ids.into_iter()
        .map(|(id, version)| {
            let session = engine
                .create_session(id, version, OrderApp::default())
                .map_err(|e| e.to_string())?;
            session.connect().map_err(|e| e.to_string())?;
            Ok(session)
        })
        .collect()
}

/// Fills every NewOrderSingle at once with an ExecutionReport; anything else gets
/// a BusinessMessageReject.
#[derive(Debug)]
pub(crate) struct OrderApp {
    /// Makes OrderIDs and ExecIDs unique across runs: the start time, in seconds.
    run: u64,
    /// Numbers for OrderID and ExecID.
    next_id: u64,
    /// The report, rebuilt in place for every order, and the ID being written:
    /// kept so that answering an order allocates nothing.
    report: Message,
    id: Vec<u8>,
}

impl Default for OrderApp {
    #[allow(clippy::disallowed_methods)] // a program, not the library: it may read the clock
    fn default() -> Self {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            run,
            next_id: 0,
            report: Message::new(msg_type::EXECUTION_REPORT),
            id: Vec::with_capacity(32),
        }
    }
}

impl Application for OrderApp {
    fn on_message(&mut self, message: &MessageView<'_>, reply: &mut Reply<'_>) {
        if message.msg_type() != msg_type::NEW_ORDER_SINGLE {
            if let Err(e) = reply.business_reject(message, 3, "Unsupported Message Type") {
                log::error!("reject not sent: {e}");
            }
            return;
        }
        self.next_id += 1;
        let (run, n) = (self.run, self.next_id);
        let version = reply.version();
        let get = |tag| message.get(tag).unwrap_or_default();
        let quantity = get(tags::ORDER_QTY);
        let price = message.get(tags::PRICE).unwrap_or(b"0");
        // What each version's ExecutionReport requires (and defines): ExecTransType(20)
        // up to FIX.4.2; LastShares(32) and LastPx(31) in FIX.4.0 and 4.1;
        // ExecType(150) and LeavesQty(151) from FIX.4.1, its Fill (2) replaced by
        // Trade (F) in FIX.4.3.
        let report = self.report.reset(msg_type::EXECUTION_REPORT);
        report.push(tags::ORDER_ID, order_ref(&mut self.id, Some(b'O'), run, n));
        report.push(tags::CL_ORD_ID, get(tags::CL_ORD_ID));
        // FIX.4.0's ExecID is an integer.
        let exec_prefix = if version == FixVersion::Fix40 {
            None
        } else {
            Some(b'E')
        };
        report.push(tags::EXEC_ID, order_ref(&mut self.id, exec_prefix, run, n));
        if version <= FixVersion::Fix42 {
            report.push(tags::EXEC_TRANS_TYPE, '0'); // New
        }
        if version >= FixVersion::Fix43 {
            report.push(tags::EXEC_TYPE, 'F'); // Trade
        } else if version >= FixVersion::Fix41 {
            report.push(tags::EXEC_TYPE, '2'); // Fill
        }
        report
            .push(tags::ORD_STATUS, '2') // Filled
            .push(tags::SIDE, get(tags::SIDE))
            .push(tags::SYMBOL, get(tags::SYMBOL))
            .push(tags::ORDER_QTY, quantity);
        if version <= FixVersion::Fix41 {
            report
                .push(tags::LAST_QTY, quantity) // LastShares before FIX.4.3
                .push(tags::LAST_PX, price);
        }
        if version >= FixVersion::Fix41 {
            report.push(tags::LEAVES_QTY, 0u32);
        }
        report
            .push(tags::CUM_QTY, quantity)
            .push(tags::AVG_PX, price);
        if let Err(e) = reply.send(&self.report) {
            log::error!("ExecutionReport not sent: {e}");
        }
    }
}

/// Writes `{prefix}{run}-{n}` into `buf`, or without a prefix the digits of
/// `run` then of `n` (`run`, seconds since 1970, has ten digits until 2286, so
/// the result is still unique): OrderID and ExecID, with the codec's own integer
/// formatting. `write!` took about 1,100 instructions per order here, a tenth of
/// the acceptor's whole cost (callgrind).
fn order_ref(buf: &mut Vec<u8>, prefix: Option<u8>, run: u64, n: u64) -> &[u8] {
    buf.clear();
    buf.extend(prefix);
    run.write_value(buf);
    if prefix.is_some() {
        buf.push(b'-');
    }
    n.write_value(buf);
    buf
}
