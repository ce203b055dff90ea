//! `SessionConfig`: one session's resolved settings, and the value types of
//! its keys (`StorageType`, `IdleStrategy`, the password kept as a secret).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::error::{ConfigError, invalid};
use super::net::IpNet;
use crate::store::SyncPolicy;

/// One session's settings, resolved: see the module docs for the keys.
///
/// Getters have the plain key name; setters are `with_*`, take `self` and
/// return `Self`. `Debug` prints the password as `"***"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub(super) storage_type: StorageType,
    pub(super) min_heart_bt_int: u32,
    pub(super) max_heart_bt_int: u32,
    pub(super) logout_timeout: Duration,
    pub(super) reasonable_transmission_time: Duration,
    pub(super) check_sending_time: bool,
    pub(super) max_sending_time_delta: Duration,
    pub(super) reset_seq_num_on_logon: bool,
    pub(super) reset_seq_num_on_logout: bool,
    pub(super) reset_seq_num_on_disconnect: bool,
    pub(super) validate_check_sum: bool,
    pub(super) validate_comp_ids: bool,
    pub(super) validate_fields_have_values: bool,
    pub(super) validate_fields_out_of_order: bool,
    pub(super) validate_field_values: bool,
    pub(super) validate_unknown_fields: bool,
    pub(super) validate_required_fields: bool,
    pub(super) enable_next_expected_msg_seq_num: bool,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    pub(super) allowed_remote_addresses: Option<Vec<IpNet>>,
    pub(super) listen_port: Option<u16>,
    pub(super) idle_strategy: IdleStrategy,
    pub(super) spin_time: Duration,
    pub(super) storage_sync: SyncPolicy,
    pub(super) storage_segment_size: u64,
    pub(super) storage_max_segments: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            storage_type: StorageType::Persistent,
            min_heart_bt_int: 1,
            max_heart_bt_int: 3600,
            logout_timeout: Duration::from_millis(2000),
            reasonable_transmission_time: Duration::from_millis(1000),
            check_sending_time: true,
            max_sending_time_delta: Duration::from_secs(120),
            reset_seq_num_on_logon: false,
            reset_seq_num_on_logout: false,
            reset_seq_num_on_disconnect: false,
            validate_check_sum: true,
            validate_comp_ids: true,
            validate_fields_have_values: true,
            validate_fields_out_of_order: true,
            validate_field_values: true,
            validate_unknown_fields: true,
            validate_required_fields: true,
            enable_next_expected_msg_seq_num: false,
            username: None,
            password: None,
            allowed_remote_addresses: None,
            listen_port: None,
            idle_strategy: IdleStrategy::Park,
            spin_time: Duration::from_millis(10),
            storage_sync: SyncPolicy::None,
            storage_segment_size: 64 << 20,
            storage_max_segments: 0,
        }
    }
}

impl SessionConfig {
    /// `StorageType`: where sequence numbers and sent messages are kept.
    /// Default [`StorageType::Persistent`].
    pub fn storage_type(&self) -> StorageType {
        self.storage_type
    }

    /// `MinHeartBtInt` (seconds): the smallest HeartBtInt(108) a Logon may
    /// ask for. Default 1.
    pub fn min_heart_bt_int(&self) -> u32 {
        self.min_heart_bt_int
    }

    /// `MaxHeartBtInt` (seconds): the largest HeartBtInt(108) a Logon may ask
    /// for. Default 3600.
    pub fn max_heart_bt_int(&self) -> u32 {
        self.max_heart_bt_int
    }

    /// `LogoutTimeout` (milliseconds in the file): how long to wait for the
    /// counterparty's Logout after sending ours before closing. Default 2 s.
    pub fn logout_timeout(&self) -> Duration {
        self.logout_timeout
    }

    /// `ReasonableTransmissionTime` (milliseconds in the file): slack added to
    /// HeartBtInt before silence from the counterparty triggers a TestRequest
    /// (and, after another interval, a disconnect). Default 1 s.
    pub fn reasonable_transmission_time(&self) -> Duration {
        self.reasonable_transmission_time
    }

    /// `CheckSendingTime`: whether SendingTime(52) must be within
    /// [`max_sending_time_delta`](Self::max_sending_time_delta) of our clock.
    /// Default `true`.
    pub fn check_sending_time(&self) -> bool {
        self.check_sending_time
    }

    /// `MaxSendingTimeDelta` (seconds in the file): the SendingTime(52)
    /// accuracy window. Default 120 s.
    pub fn max_sending_time_delta(&self) -> Duration {
        self.max_sending_time_delta
    }

    /// `ResetSeqNumOnLogon`: both sequence numbers back to 1 on every Logon.
    /// Default `false`.
    pub fn reset_seq_num_on_logon(&self) -> bool {
        self.reset_seq_num_on_logon
    }

    /// `ResetSeqNumOnLogout`: both sequence numbers back to 1 after a
    /// graceful Logout. Default `false`.
    pub fn reset_seq_num_on_logout(&self) -> bool {
        self.reset_seq_num_on_logout
    }

    /// `ResetSeqNumOnDisconnect`: both sequence numbers back to 1 after any
    /// disconnect. Default `false`: a reconnect continues the numbers.
    pub fn reset_seq_num_on_disconnect(&self) -> bool {
        self.reset_seq_num_on_disconnect
    }

    /// `ValidateCheckSum`: verify CheckSum(10) of inbound messages. Default `true`.
    pub fn validate_check_sum(&self) -> bool {
        self.validate_check_sum
    }

    /// `ValidateCompIds`: inbound SenderCompID(49)/TargetCompID(56) must match
    /// the session. Default `true`.
    pub fn validate_comp_ids(&self) -> bool {
        self.validate_comp_ids
    }

    /// `ValidateFieldsHaveValues`: reject inbound fields with an empty value
    /// (`tag=`). Default `true`.
    pub fn validate_fields_have_values(&self) -> bool {
        self.validate_fields_have_values
    }

    /// `ValidateFieldsOutOfOrder`: with a data dictionary, header fields first, body next, trailer last (SessionRejectReason 14). Default `true`.
    pub fn validate_fields_out_of_order(&self) -> bool {
        self.validate_fields_out_of_order
    }

    /// `ValidateFieldValues`: with a data dictionary, values have their field's type and, for enumerated fields, a listed value (6, 5). Default `true`.
    pub fn validate_field_values(&self) -> bool {
        self.validate_field_values
    }

    /// `ValidateUnknownFields`: with a data dictionary, tags unknown to the data dictionary, or not defined for the message, are rejected (0, 2). Default `true`.
    pub fn validate_unknown_fields(&self) -> bool {
        self.validate_unknown_fields
    }

    /// `ValidateRequiredFields`: with a data dictionary, the data dictionary's required fields must be present (1). Default `true`.
    pub fn validate_required_fields(&self) -> bool {
        self.validate_required_fields
    }

    /// `EnableNextExpectedMsgSeqNum`: handle and send
    /// NextExpectedMsgSeqNum(789) on Logon (FIX.4.4 and later). Default `false`.
    pub fn enable_next_expected_msg_seq_num(&self) -> bool {
        self.enable_next_expected_msg_seq_num
    }

    /// `Username`: the Username(553) the counterparty's Logon must carry.
    /// Default none (not checked).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// `Password`: the Password(554) the counterparty's Logon must carry.
    /// Default none (not checked).
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|secret| secret.0.as_str())
    }

    /// `AllowedRemoteAddresses`: the addresses the counterparty may connect
    /// from. Default `None`: any address.
    pub fn allowed_remote_addresses(&self) -> Option<&[IpNet]> {
        self.allowed_remote_addresses.as_deref()
    }

    /// Whether a connection from `address` is allowed by
    /// [`allowed_remote_addresses`](Self::allowed_remote_addresses).
    pub fn is_remote_address_allowed(&self, address: IpAddr) -> bool {
        self.allowed_remote_addresses
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(address)))
    }

    /// Session-level `ListenPort`: a port this session is (also) accepted on.
    /// Default none: the engine's ports.
    pub fn listen_port(&self) -> Option<u16> {
        self.listen_port
    }

    /// `IdleStrategy`: how the session's thread waits when it has nothing to do.
    /// Default [`IdleStrategy::Park`].
    pub fn idle_strategy(&self) -> IdleStrategy {
        self.idle_strategy
    }

    /// `SpinTime`: how long a [`IdleStrategy::Spin`] session keeps polling after its
    /// last work before it parks. Default 10 ms.
    pub fn spin_time(&self) -> Duration {
        self.spin_time
    }

    /// `StorageSync`: when a persistent store writes through to the disk. Default
    /// [`SyncPolicy::None`].
    pub fn storage_sync(&self) -> SyncPolicy {
        self.storage_sync
    }

    /// `StorageSegmentSize`: the size at which a persistent store's message log
    /// starts a new segment file. Default 64 MiB.
    pub fn storage_segment_size(&self) -> u64 {
        self.storage_segment_size
    }

    /// `StorageMaxSegments`: how many log segments a persistent store keeps (the
    /// oldest are deleted beyond it); 0 keeps every one. Default 0.
    pub fn storage_max_segments(&self) -> usize {
        self.storage_max_segments
    }

    /// Sets `StorageSegmentSize`.
    #[must_use]
    pub fn with_storage_segment_size(mut self, bytes: u64) -> Self {
        self.storage_segment_size = bytes;
        self
    }

    /// Sets `StorageMaxSegments`.
    #[must_use]
    pub fn with_storage_max_segments(mut self, count: usize) -> Self {
        self.storage_max_segments = count;
        self
    }

    /// Sets `StorageSync`.
    #[must_use]
    pub fn with_storage_sync(mut self, policy: SyncPolicy) -> Self {
        self.storage_sync = policy;
        self
    }

    /// Sets `IdleStrategy`.
    #[must_use]
    pub fn with_idle_strategy(mut self, strategy: IdleStrategy) -> Self {
        self.idle_strategy = strategy;
        self
    }

    /// Sets `SpinTime`.
    #[must_use]
    pub fn with_spin_time(mut self, time: Duration) -> Self {
        self.spin_time = time;
        self
    }

    /// Sets `StorageType`.
    #[must_use]
    pub fn with_storage_type(mut self, storage_type: StorageType) -> Self {
        self.storage_type = storage_type;
        self
    }

    /// Sets `MinHeartBtInt` in seconds.
    #[must_use]
    pub fn with_min_heart_bt_int(mut self, seconds: u32) -> Self {
        self.min_heart_bt_int = seconds;
        self
    }

    /// Sets `MaxHeartBtInt` in seconds.
    #[must_use]
    pub fn with_max_heart_bt_int(mut self, seconds: u32) -> Self {
        self.max_heart_bt_int = seconds;
        self
    }

    /// Sets `LogoutTimeout`.
    #[must_use]
    pub fn with_logout_timeout(mut self, timeout: Duration) -> Self {
        self.logout_timeout = timeout;
        self
    }

    /// Sets `ReasonableTransmissionTime`.
    #[must_use]
    pub fn with_reasonable_transmission_time(mut self, time: Duration) -> Self {
        self.reasonable_transmission_time = time;
        self
    }

    /// Sets `CheckSendingTime`.
    #[must_use]
    pub fn with_check_sending_time(mut self, check: bool) -> Self {
        self.check_sending_time = check;
        self
    }

    /// Sets `MaxSendingTimeDelta`.
    #[must_use]
    pub fn with_max_sending_time_delta(mut self, delta: Duration) -> Self {
        self.max_sending_time_delta = delta;
        self
    }

    /// Sets `ResetSeqNumOnLogon`.
    #[must_use]
    pub fn with_reset_seq_num_on_logon(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_logon = reset;
        self
    }

    /// Sets `ResetSeqNumOnLogout`.
    #[must_use]
    pub fn with_reset_seq_num_on_logout(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_logout = reset;
        self
    }

    /// Sets `ResetSeqNumOnDisconnect`.
    #[must_use]
    pub fn with_reset_seq_num_on_disconnect(mut self, reset: bool) -> Self {
        self.reset_seq_num_on_disconnect = reset;
        self
    }

    /// Sets `ValidateCheckSum`.
    #[must_use]
    pub fn with_validate_check_sum(mut self, validate: bool) -> Self {
        self.validate_check_sum = validate;
        self
    }

    /// Sets `ValidateFieldsOutOfOrder`.
    #[must_use]
    pub fn with_validate_fields_out_of_order(mut self, validate: bool) -> Self {
        self.validate_fields_out_of_order = validate;
        self
    }

    /// Sets `ValidateFieldValues`.
    #[must_use]
    pub fn with_validate_field_values(mut self, validate: bool) -> Self {
        self.validate_field_values = validate;
        self
    }

    /// Sets `ValidateUnknownFields`.
    #[must_use]
    pub fn with_validate_unknown_fields(mut self, validate: bool) -> Self {
        self.validate_unknown_fields = validate;
        self
    }

    /// Sets `ValidateRequiredFields`.
    #[must_use]
    pub fn with_validate_required_fields(mut self, validate: bool) -> Self {
        self.validate_required_fields = validate;
        self
    }

    /// Sets `ValidateCompIds`.
    #[must_use]
    pub fn with_validate_comp_ids(mut self, validate: bool) -> Self {
        self.validate_comp_ids = validate;
        self
    }

    /// Sets `ValidateFieldsHaveValues`.
    #[must_use]
    pub fn with_validate_fields_have_values(mut self, validate: bool) -> Self {
        self.validate_fields_have_values = validate;
        self
    }

    /// Sets `EnableNextExpectedMsgSeqNum`.
    #[must_use]
    pub fn with_enable_next_expected_msg_seq_num(mut self, enable: bool) -> Self {
        self.enable_next_expected_msg_seq_num = enable;
        self
    }

    /// Sets `Username`.
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets `Password`.
    #[must_use]
    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret(password.into()));
        self
    }

    /// Sets `AllowedRemoteAddresses`. An empty list allows nobody; the default
    /// (never calling this) allows anybody.
    #[must_use]
    pub fn with_allowed_remote_addresses(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.allowed_remote_addresses = Some(nets.into_iter().collect());
        self
    }

    /// Sets the session-level `ListenPort`.
    #[must_use]
    pub fn with_listen_port(mut self, port: u16) -> Self {
        self.listen_port = Some(port);
        self
    }

    pub(super) fn check_heart_bt_int_range(&self, scope: &str) -> Result<(), ConfigError> {
        if self.min_heart_bt_int > self.max_heart_bt_int {
            return Err(invalid(format!(
                "{scope}: MinHeartBtInt ({} s) is greater than MaxHeartBtInt ({} s)",
                self.min_heart_bt_int, self.max_heart_bt_int
            )));
        }
        Ok(())
    }
}

/// `IdleStrategy`: how a session's thread waits for work.
///
/// | strategy | wake-up latency | CPU while idle |
/// |---|---|---|
/// | `Park` | a thread wake-up (tens of µs on a busy VM, a few µs on bare metal) | none |
/// | `Spin` | one poll loop (about a µs) | a whole core for `SpinTime` after each burst of work, then none |
///
/// Spinning helps only while the thread has a core of its own: on a machine with
/// two cores, spin one session at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdleStrategy {
    /// Sleep in the poller until an event or a deadline (efficiency mode).
    /// Spelled `park`.
    #[default]
    Park,
    /// Poll without sleeping for `SpinTime` after the last work, then park
    /// (latency mode). Spelled `spin`.
    Spin,
}

/// `StorageType`: where a session keeps its sequence numbers and sent messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StorageType {
    /// Memory-mapped files under the storage directory: survives restarts.
    /// Spelled `persistent` (or FIX Antenna's `persistentMM`) in the file.
    #[default]
    Persistent,
    /// In memory only: sequence numbers restart at 1 with the process.
    /// Spelled `transient` in the file.
    Transient,
}

impl StorageType {
    /// The spelling used in `engine.properties`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Persistent => "persistent",
            Self::Transient => "transient",
        }
    }
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password: compared and handed out, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Secret(pub(super) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}
