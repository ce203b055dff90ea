//! How a session's worker ends: the Logout exchange of a finalizing session, the
//! release of everything at the end, and the end after a panic.
use std::net::Shutdown;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::Receiver;

use super::{Worker, now};
use crate::engine::{Application, Command, EngineError, Registration, Shared};
use crate::session::State;
use crate::store::MessageStore;

/// A session whose store could not be opened, or whose data dictionary could not
/// be loaded (`why`), never runs: it is marked ended, and the connection it was
/// created for is closed.
pub(super) fn end_unstarted(shared: &Shared, commands: &Receiver<Command>, why: &str) {
    shared.mark_ended();
    refuse_commands(shared, commands, why, |id| EngineError::Finalized { id });
}

/// Answers the commands still queued when a session ends: waiting
/// disconnects are released, resets fail with `error`, handed-off connections are
/// closed (logged with `why`).
fn refuse_commands(
    shared: &Shared,
    commands: &Receiver<Command>,
    why: &str,
    error: impl Fn(crate::id::SessionId) -> EngineError,
) {
    while let Ok(command) = commands.try_recv() {
        match command {
            Command::Disconnect { done, .. } => {
                let _ = done.send(());
            }
            Command::Sequence { done, .. } => {
                let _ = done.send(Err(error(shared.id.clone())));
            }
            Command::Handoff { stream, remote, .. } => {
                log::info!(
                    "session {}: connection from {remote} closed: {why}",
                    shared.id
                );
                let _ = stream.shutdown(Shutdown::Both);
            }
            Command::Refresh | Command::Finalize => {}
        }
    }
}

impl<A: Application, S: MessageStore> Worker<A, S> {
    /// The session is finalizing: a logged-on counterparty gets a Logout, and the
    /// worker goes on (reading, running timers) until the counterparty's Logout
    /// arrives or LogoutTimeout passes, so that its number is consumed and the
    /// next run starts without a gap. False when there is nothing left to wait for.
    pub(super) fn ending(&mut self, now: Instant) -> bool {
        if self.conn.is_none() {
            return false;
        }
        if !self.logging_out_to_end {
            let established = self.machine.state() == State::Established;
            if established {
                // What was put before finalize goes out ahead of the Logout; the
                // rest is settled at the end (`settle_puts`).
                self.take_puts(now);
            }
            self.logging_out_to_end = true;
            if established {
                self.logout(now, "session finalized");
                self.pump();
            }
        }
        if self.conn.is_some() && self.machine.state() == State::WaitForLogout {
            return true;
        }
        self.close("session finalized");
        false
    }

    /// Finalization: the connection closes (after the Logout exchange `ending` ran,
    /// or with a Logout and no wait when the loop stopped another way), queued puts
    /// are stored or handed back (so none is lost), the store is flushed.
    pub(super) fn finish(mut self) -> Registration {
        let now = now();
        if self.machine.state() == State::Established {
            self.logout(now, "session finalized");
        }
        self.close("session finalized");
        self.settle_puts(now);
        refuse_commands(
            &self.shared,
            &self.commands,
            "the session has ended",
            |id| EngineError::Finalized { id },
        );
        if let Err(e) = self.machine.sync_store() {
            log::error!(
                "session {}: store not synced at finalize: {e}",
                self.shared.id
            );
        }
        self.publish_seq_nums();
        self.publish_state();
        log::info!("session {}: finalized", self.shared.id);
        self.registration
    }

    /// After a panic in the application: the session stops where it is. Its socket
    /// closes (the counterparty reconnects and recovers by resend once the session
    /// is recreated); callers waiting on it are released with an error.
    pub(super) fn die(mut self) -> Registration {
        log::error!(
            "session {}: its application panicked; the session has stopped",
            self.shared.id
        );
        self.shared.died.store(true, Ordering::Release);
        self.shared.mark_ended();
        if let Some(conn) = self.conn.take() {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(());
        }
        refuse_commands(
            &self.shared,
            &self.commands,
            "the session has stopped",
            |id| EngineError::Stopped { id },
        );
        self.registration
    }
}
