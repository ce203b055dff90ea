//! Validated identity newtypes: FIX versions, CompIDs, session identities and sequence numbers.
//!
//! "Parse, don't validate": a value of these types is known good, so the layers
//! above never re-check a CompID for control characters or a sequence number for zero.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use thiserror::Error;

/// A FIX protocol version as negotiated in the Logon.
///
/// FIX.5.0 and its service packs travel over the FIXT.1.1 transport: their
/// BeginString(8) is `FIXT.1.1` and the application version is carried in
/// DefaultApplVerID(1137) on the Logon (and ApplVerID(1128) where it differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FixVersion {
    /// FIX.4.0
    Fix40,
    /// FIX.4.1
    Fix41,
    /// FIX.4.2
    Fix42,
    /// FIX.4.3
    Fix43,
    /// FIX.4.4
    Fix44,
    /// FIX.5.0 over FIXT.1.1 (ApplVerID 7)
    Fix50,
    /// FIX.5.0SP1 over FIXT.1.1 (ApplVerID 8)
    Fix50Sp1,
    /// FIX.5.0SP2 over FIXT.1.1 (ApplVerID 9)
    Fix50Sp2,
}

impl FixVersion {
    /// Every version, oldest first.
    pub const ALL: [Self; 8] = [
        Self::Fix40,
        Self::Fix41,
        Self::Fix42,
        Self::Fix43,
        Self::Fix44,
        Self::Fix50,
        Self::Fix50Sp1,
        Self::Fix50Sp2,
    ];

    /// The BeginString(8) value on the wire.
    pub const fn begin_string(self) -> &'static str {
        match self {
            Self::Fix40 => "FIX.4.0",
            Self::Fix41 => "FIX.4.1",
            Self::Fix42 => "FIX.4.2",
            Self::Fix43 => "FIX.4.3",
            Self::Fix44 => "FIX.4.4",
            Self::Fix50 | Self::Fix50Sp1 | Self::Fix50Sp2 => "FIXT.1.1",
        }
    }

    /// The ApplVerID(1128) / DefaultApplVerID(1137) value, for versions carried over FIXT.1.1.
    pub const fn appl_ver_id(self) -> Option<&'static str> {
        match self {
            Self::Fix50 => Some("7"),
            Self::Fix50Sp1 => Some("8"),
            Self::Fix50Sp2 => Some("9"),
            _ => None,
        }
    }

    /// True when the session layer is FIXT.1.1 rather than FIX.4.x.
    pub const fn is_fixt(self) -> bool {
        self.appl_ver_id().is_some()
    }

    /// The conventional name, as in the seed API's dictionary names (`FIX44`, `FIX50SP2`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Fix40 => "FIX40",
            Self::Fix41 => "FIX41",
            Self::Fix42 => "FIX42",
            Self::Fix43 => "FIX43",
            Self::Fix44 => "FIX44",
            Self::Fix50 => "FIX50",
            Self::Fix50Sp1 => "FIX50SP1",
            Self::Fix50Sp2 => "FIX50SP2",
        }
    }

    /// The finest SendingTime(52) precision this version allows by default.
    ///
    /// FIX.4.0 and 4.1 define UTCTimestamp with whole seconds only; 4.2 and later
    /// allow milliseconds, which is what QuickFIX and most counterparties send.
    pub const fn default_time_precision(self) -> crate::codec::TimePrecision {
        match self {
            Self::Fix40 | Self::Fix41 => crate::codec::TimePrecision::Seconds,
            _ => crate::codec::TimePrecision::Millis,
        }
    }

    /// Whether EndSeqNo(16) = 999999 means "to infinity" (FIX.4.0 and 4.1 only; later versions use 0).
    pub const fn uses_999999_as_infinity(self) -> bool {
        matches!(self, Self::Fix40 | Self::Fix41)
    }

    /// The version for a BeginString(8) of FIX.4.x. FIXT.1.1 needs the ApplVerID too:
    /// see [`FixVersion::from_appl_ver_id`].
    pub fn from_begin_string(begin_string: &[u8]) -> Option<Self> {
        Some(match begin_string {
            b"FIX.4.0" => Self::Fix40,
            b"FIX.4.1" => Self::Fix41,
            b"FIX.4.2" => Self::Fix42,
            b"FIX.4.3" => Self::Fix43,
            b"FIX.4.4" => Self::Fix44,
            _ => return None,
        })
    }

    /// The FIX.5.0 version for an ApplVerID(1128) / DefaultApplVerID(1137) value.
    pub fn from_appl_ver_id(appl_ver_id: &[u8]) -> Option<Self> {
        Some(match appl_ver_id {
            b"7" => Self::Fix50,
            b"8" => Self::Fix50Sp1,
            b"9" => Self::Fix50Sp2,
            _ => return None,
        })
    }
}

impl fmt::Display for FixVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FixVersion {
    type Err = IdError;

    /// Accepts the short names (`FIX44`, `FIX50SP2`) and the BeginString forms
    /// (`FIX.4.4`, `FIX.5.0SP2`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '.' && *c != '_')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|v| v.name() == norm)
            .ok_or_else(|| IdError::UnknownVersion(s.to_owned()))
    }
}

/// The longest CompID accepted. Peers choose CompIDs, and they end up in file
/// names and logs, so they are bounded.
pub const MAX_COMP_ID_LEN: usize = 64;

/// A SenderCompID(49) / TargetCompID(56) value: 1 to 64 printable ASCII bytes, no SOH, no `=`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompId(Box<str>);

impl CompId {
    /// Validates `value` as a CompID.
    ///
    /// # Errors
    /// [`IdError::InvalidCompId`] when empty, longer than [`MAX_COMP_ID_LEN`], or
    /// containing anything but printable ASCII (0x21..=0x7E) other than `=`.
    pub fn new(value: impl AsRef<[u8]>) -> Result<Self, IdError> {
        let bytes = value.as_ref();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_COMP_ID_LEN
            && bytes
                .iter()
                .all(|&b| (0x21..=0x7e).contains(&b) && b != b'=');
        match std::str::from_utf8(bytes) {
            Ok(s) if ok => Ok(Self(s.into())),
            _ => Err(IdError::InvalidCompId(
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_COMP_ID_LEN + 1)])
                    .into_owned(),
            )),
        }
    }

    /// The CompID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The CompID as wire bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for CompId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for CompId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CompId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The identity of one FIX session, from the acceptor's point of view:
/// our SenderCompID(49) and the counterparty's (our TargetCompID(56)).
///
/// An inbound Logon matches this session when its SenderCompID equals our
/// `target` and its TargetCompID equals our `sender`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId {
    sender: CompId,
    target: CompId,
}

impl SessionId {
    /// A session in which we are `sender` and the counterparty is `target`.
    ///
    /// # Errors
    /// [`IdError::InvalidCompId`] naming the value that is not a valid CompID.
    pub fn new(sender: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Result<Self, IdError> {
        Ok(Self {
            sender: CompId::new(sender)?,
            target: CompId::new(target)?,
        })
    }

    /// A session named by literals in the program, such as
    /// `SessionId::from_static("TEST1", "TEST2")`: a typo there is a bug in the
    /// program, not bad input. Values that come from outside the program (a file,
    /// a command line, a peer) go through [`SessionId::new`].
    ///
    /// # Panics
    /// If either is not a valid [`CompId`].
    #[allow(clippy::expect_used)]
    pub fn from_static(sender: &'static str, target: &'static str) -> Self {
        Self::new(sender, target).expect("SessionId::from_static: invalid CompID literal")
    }

    /// Our SenderCompID(49).
    pub fn sender(&self) -> &CompId {
        &self.sender
    }

    /// Our TargetCompID(56): the counterparty's SenderCompID.
    pub fn target(&self) -> &CompId {
        &self.target
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.sender, self.target)
    }
}

/// A MsgSeqNum(34) value: 1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeqNum(NonZeroU64);

impl SeqNum {
    /// The first sequence number of a FIX session.
    pub const ONE: Self = Self(NonZeroU64::MIN);

    /// `Some` when `n` is at least 1.
    pub const fn new(n: u64) -> Option<Self> {
        match NonZeroU64::new(n) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// The number.
    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// The following sequence number (saturating at `u64::MAX`).
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Invalid identity values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not a FIX version this engine speaks.
    #[error(
        "unknown FIX version {0:?} (expected one of FIX40, FIX41, FIX42, FIX43, FIX44, FIX50, FIX50SP1, FIX50SP2)"
    )]
    UnknownVersion(String),
    /// Not a usable CompID.
    #[error(
        "invalid CompID {0:?}: must be 1 to 64 printable ASCII characters without '=' or spaces"
    )]
    InvalidCompId(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_round_trip() {
        for v in FixVersion::ALL {
            assert_eq!(v.name().parse::<FixVersion>().unwrap(), v);
        }
        assert_eq!("fix.4.4".parse::<FixVersion>().unwrap(), FixVersion::Fix44);
        assert_eq!(
            "FIX.5.0SP2".parse::<FixVersion>().unwrap(),
            FixVersion::Fix50Sp2
        );
        let err = "FIX45".parse::<FixVersion>().unwrap_err();
        assert!(err.to_string().contains("FIX45"));
    }

    #[test]
    fn fixt_versions_carry_appl_ver_id() {
        assert_eq!(FixVersion::Fix50Sp2.begin_string(), "FIXT.1.1");
        assert_eq!(FixVersion::Fix50Sp2.appl_ver_id(), Some("9"));
        assert_eq!(
            FixVersion::from_appl_ver_id(b"8"),
            Some(FixVersion::Fix50Sp1)
        );
        assert_eq!(FixVersion::Fix42.appl_ver_id(), None);
        assert_eq!(
            FixVersion::from_begin_string(b"FIX.4.2"),
            Some(FixVersion::Fix42)
        );
        assert_eq!(FixVersion::from_begin_string(b"FIXT.1.1"), None);
    }

    #[test]
    fn comp_ids_reject_empty_oversized_and_control_bytes() {
        assert!(CompId::new("ISLD").is_ok());
        assert!(CompId::new("").is_err());
        assert!(CompId::new("A B").is_err());
        assert!(CompId::new("A\x01B").is_err());
        assert!(CompId::new("A=B").is_err());
        assert!(CompId::new("x".repeat(65)).is_err());
        let err = CompId::new("bad\u{7f}").unwrap_err();
        assert!(err.to_string().contains("bad"));
    }

    #[test]
    fn session_ids_from_outside_are_checked_without_panicking() {
        assert_eq!(
            SessionId::new("US", "THEM"),
            Ok(SessionId::from_static("US", "THEM"))
        );
        let err = SessionId::new("US", "TH EM").unwrap_err();
        assert!(err.to_string().contains("TH EM"), "{err}");
        assert!(SessionId::new("", "THEM").is_err());
    }

    #[test]
    fn seq_num_is_never_zero() {
        assert!(SeqNum::new(0).is_none());
        assert_eq!(SeqNum::ONE.get(), 1);
        assert_eq!(SeqNum::ONE.next().get(), 2);
        assert_eq!(SeqNum::new(u64::MAX).unwrap().next().get(), u64::MAX);
    }
}
