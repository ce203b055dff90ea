//! The listening sockets, opened with the backlog the configuration asks for.

use std::net::SocketAddr;

use mio::net::TcpListener;

/// Opens a listening socket whose kernel accept queue holds `backlog`
/// connections (capped by the kernel's `net.core.somaxconn`).
///
/// mio and std both listen with a backlog of 128: a burst of more connections
/// than that, arriving faster than the reactor accepts them (a thousand
/// counterparties reconnecting at once after a restart), overflows the queue, and
/// each SYN dropped costs its client a one-second retransmission timeout. The
/// engine already bounds connections waiting to log on by MaxPendingConnections;
/// the queue before accept gets the same bound.
pub(super) fn listen(addr: SocketAddr, backlog: usize) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As mio's own bind: a restarted engine rebinds at once despite TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog.max(128)).unwrap_or(i32::MAX))?;
    Ok(TcpListener::from_std(socket.into()))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpStream};

    use std::time::Duration;

    use super::*;

    /// A burst of connections larger than std's and mio's backlog of 128 all
    /// complete their handshake before anything is accepted: none waits out a
    /// SYN retransmission.
    #[test]
    fn the_accept_queue_holds_a_burst_beyond_128() {
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(4096);
        let burst = 300.min(somaxconn);
        let listener = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..burst)
            .map(|i| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connection {i} of {burst}: {e}"))
            })
            .collect();
        assert_eq!(clients.len(), burst);
    }
}
