//! Every configuration key, declared once: one line per key in
//! [`engine_keys!`] and [`session_keys!`].
//!
//! A key used to be written in ten places (field, `Default`, getter, builder,
//! parser arms, the list of names, ...), and an edit that missed one still
//! compiled. Now each table hands its lines to a generator macro, as
//! quinn-proto's `apply_params!` does for transport parameters:
//! [`config_struct!`] builds `EngineConfig` (in `engine.rs`) and
//! `SessionConfig` (in `session.rs`) with their `Default`, getters and `with_*`
//! builders; `properties.rs` builds the reader's arms; this file the lists of
//! names. What a macro cannot write, the module docs' key tables and
//! `default.properties`, a test holds to these tables.
//!
//! # A line
//!
//! ```text
//! /// Getter docs: `Key` (unit in the file): what it does. Default ...
//! Key: kind Type = default, getter / with_setter(param), parse method(args);
//! ```
//!
//! - `Key` is the name in `engine.properties`.
//! - `kind Type` says how the value is held and handed out (see
//!   [`field_type!`], [`getter!`], [`setter!`]):
//!   - `value T`: a `T`; the getter returns it, the builder takes it;
//!   - `optional T`: an `Option<T>`; the builder sets `Some`;
//!   - `text T`: an `Option<T>` for a `T` made from and read as a string
//!     (`String`, or `Secret` for a password that `Debug` must not print);
//!   - `list T`: an `Option<Vec<T>>` read as `Option<&[T]>`, built from any
//!     iterator;
//!   - `path T`: a path, read as `&Path`, built from `impl Into<PathBuf>`;
//!   - `optional_path T`: an `Option<T>` path, read as `Option<&Path>`, built
//!     from `impl Into<PathBuf>`;
//!   - `vec T`: a `Vec<T>` read as `&[T]` (no generated builder).
//! - `default` is the built-in value.
//! - `getter / with_setter(param)` name the two methods; a line without
//!   `/ with_setter(param)` gets no builder, and one is written by hand.
//! - `parse method(args)` is the `Source` method (in `properties.rs`) that
//!   reads the value from the file; the arguments are usually the `EXPECTED_*`
//!   text of the error.
//!
//! Every generator matches this grammar again: macro_rules cannot skip over
//! the parts of a line it does not use.

/// Calls `$generate!` with `$before` (if any) and the engine-wide keys,
/// written bare in the file.
macro_rules! engine_keys {
    ($generate:ident $($before:tt)*) => {
        $generate! {
            $($before)*

            /// `ListenPort`: the ports the acceptor listens on, in the order given.
            /// Default: none, so nothing is accepted unless a session has its own
            /// `ListenPort` (see [`all_listen_ports`](Self::all_listen_ports)), and
            /// [`validate_for_start`](Self::validate_for_start) refuses a
            /// configuration with no port at all. Port 0 asks the OS for an
            /// ephemeral port.
            ListenPort: vec u16 = Vec::new(), listen_ports, parse ports();

            /// `ListenAddress`: the local interface to bind. Default `0.0.0.0` (every
            /// IPv4 interface).
            ListenAddress: value IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                listen_address / with_listen_address(address), parse ip_address();

            /// `StorageDirectory`: the root under which each session's store folder
            /// is created. Default `logs` (relative to the working directory).
            StorageDirectory: path PathBuf = PathBuf::from("logs"),
                storage_directory / with_storage_directory(directory), parse directory();

            /// `CreateUnregisteredAcceptorSession`: whether a Logon for a session
            /// nobody registered may create one (subject to the sessions manager).
            /// Default `false`: such a Logon gets a Logout and the connection is closed.
            CreateUnregisteredAcceptorSession: value bool = false,
                create_unregistered_acceptor_session / with_create_unregistered_acceptor_session(create),
                parse boolean();

            /// `LogonTimeout` (milliseconds in the file): the time a new connection has
            /// to deliver a complete Logon before it is closed. Default 5 s.
            LogonTimeout: value Duration = Duration::from_millis(5000),
                logon_timeout / with_logon_timeout(timeout), parse millis();

            /// `MaxPendingConnections`: connections accepted but not yet logged on,
            /// at most; more are closed on accept. It is also the listening sockets'
            /// backlog (at least 128, at most the kernel's `net.core.somaxconn`), so a
            /// burst of reconnects waits in the kernel's queue rather than losing SYNs.
            /// Default 1024.
            MaxPendingConnections: value usize = 1024,
                max_pending_connections / with_max_pending_connections(max),
                parse number(EXPECTED_COUNT);

            /// `MaxMessageSize` (bytes): the largest inbound message accepted; a
            /// larger BodyLength(9) is garbled input. Default 1 MiB (1048576).
            MaxMessageSize: value usize = 1024 * 1024,
                max_message_size / with_max_message_size(bytes), parse byte_size();

            /// `DataDictionaryDirectory`: the folder in which the data dictionaries that
            /// `DataDictionary`, `TransportDataDictionary` and `AppDataDictionary` name
            /// are looked up, as `<name>.xml`, and from which a session that names none
            /// gets its version's (`FIX44.xml`; `FIXT11.xml` with `FIX50SP2.xml`).
            /// Default none: only dictionaries given as paths, or in code, are used.
            /// The engine lists it when it starts: a folder that does not exist or holds
            /// no `.xml` file is an error. QuickFIX has no such key.
            DataDictionaryDirectory: optional_path PathBuf = None,
                data_dictionary_directory / with_data_dictionary_directory(directory),
                parse optional_directory();

            /// `MessageLogDirectory`: the root under which each session's message log
            /// is written, in `<session folder>/messages/` as under
            /// `StorageDirectory`. Default none: beside the store, under
            /// `StorageDirectory`.
            MessageLogDirectory: optional_path PathBuf = None,
                message_log_directory / with_message_log_directory(directory),
                parse optional_directory();
        }
    };
}

/// Calls `$generate!` with `$before` (if any) and the session keys, written
/// `Session.Default.<Key>` or `Session.<SenderCompID>/<TargetCompID>.<Key>`.
macro_rules! session_keys {
    ($generate:ident $($before:tt)*) => {
        $generate! {
            $($before)*

            /// `StorageType`: where sequence numbers and sent messages are kept.
            /// Default [`StorageType::Persistent`].
            StorageType: value StorageType = StorageType::Persistent,
                storage_type / with_storage_type(storage_type), parse choice();

            /// `MinHeartBtInt` (seconds): the smallest HeartBtInt(108) a Logon may
            /// ask for. Default 1.
            MinHeartBtInt: value u32 = 1,
                min_heart_bt_int / with_min_heart_bt_int(seconds), parse number(EXPECTED_SECONDS);

            /// `MaxHeartBtInt` (seconds): the largest HeartBtInt(108) a Logon may ask
            /// for. Default 3600.
            MaxHeartBtInt: value u32 = 3600,
                max_heart_bt_int / with_max_heart_bt_int(seconds), parse number(EXPECTED_SECONDS);

            /// `LogoutTimeout` (milliseconds in the file): how long to wait for the
            /// counterparty's Logout after sending ours before closing. Default 2 s.
            LogoutTimeout: value Duration = Duration::from_millis(2000),
                logout_timeout / with_logout_timeout(timeout), parse millis();

            /// `ReasonableTransmissionTime` (milliseconds in the file): slack added to
            /// HeartBtInt before silence from the counterparty triggers a TestRequest
            /// (and, after another interval, a disconnect). Default 1 s.
            ReasonableTransmissionTime: value Duration = Duration::from_millis(1000),
                reasonable_transmission_time / with_reasonable_transmission_time(time),
                parse millis();

            /// `CheckSendingTime`: whether SendingTime(52) must be within
            /// [`max_sending_time_delta`](Self::max_sending_time_delta) of our clock.
            /// Default `true`.
            CheckSendingTime: value bool = true,
                check_sending_time / with_check_sending_time(check), parse boolean();

            /// `MaxSendingTimeDelta` (seconds in the file): the SendingTime(52)
            /// accuracy window. Default 120 s.
            MaxSendingTimeDelta: value Duration = Duration::from_secs(120),
                max_sending_time_delta / with_max_sending_time_delta(delta), parse seconds();

            /// `ResetSeqNumOnLogon`: both sequence numbers back to 1 on every Logon.
            /// Default `false`.
            ResetSeqNumOnLogon: value bool = false,
                reset_seq_num_on_logon / with_reset_seq_num_on_logon(reset), parse boolean();

            /// `ResetSeqNumOnLogout`: both sequence numbers back to 1 after a
            /// graceful Logout. Default `false`.
            ResetSeqNumOnLogout: value bool = false,
                reset_seq_num_on_logout / with_reset_seq_num_on_logout(reset), parse boolean();

            /// `ResetSeqNumOnDisconnect`: both sequence numbers back to 1 after any
            /// disconnect. Default `false`: a reconnect continues the numbers.
            ResetSeqNumOnDisconnect: value bool = false,
                reset_seq_num_on_disconnect / with_reset_seq_num_on_disconnect(reset),
                parse boolean();

            /// `ValidateCheckSum`: verify CheckSum(10) of inbound messages. Default `true`.
            ValidateCheckSum: value bool = true,
                validate_check_sum / with_validate_check_sum(validate), parse boolean();

            /// `ValidateCompIds`: inbound SenderCompID(49)/TargetCompID(56) must match
            /// the session. Default `true`.
            ValidateCompIds: value bool = true,
                validate_comp_ids / with_validate_comp_ids(validate), parse boolean();

            /// `ValidateFieldsHaveValues`: reject inbound fields with an empty value
            /// (`tag=`). Default `true`.
            ValidateFieldsHaveValues: value bool = true,
                validate_fields_have_values / with_validate_fields_have_values(validate),
                parse boolean();

            /// `ValidateFieldsOutOfOrder`: with a data dictionary, header fields first,
            /// body next, trailer last (SessionRejectReason 14). Default `true`.
            ValidateFieldsOutOfOrder: value bool = true,
                validate_fields_out_of_order / with_validate_fields_out_of_order(validate),
                parse boolean();

            /// `ValidateFieldValues`: with a data dictionary, values have their field's
            /// type and, for enumerated fields, a listed value (6, 5). Default `true`.
            ValidateFieldValues: value bool = true,
                validate_field_values / with_validate_field_values(validate), parse boolean();

            /// `ValidateUnknownFields`: with a data dictionary, tags unknown to the
            /// data dictionary, or not defined for the message, are rejected (0, 2).
            /// Default `true`.
            ValidateUnknownFields: value bool = true,
                validate_unknown_fields / with_validate_unknown_fields(validate), parse boolean();

            /// `ValidateRequiredFields`: with a data dictionary, the data dictionary's
            /// required fields must be present (1). Default `true`.
            ValidateRequiredFields: value bool = true,
                validate_required_fields / with_validate_required_fields(validate),
                parse boolean();

            /// `EnableNextExpectedMsgSeqNum`: handle and send
            /// NextExpectedMsgSeqNum(789) on Logon (FIX.4.4 and later). Default `false`.
            EnableNextExpectedMsgSeqNum: value bool = false,
                enable_next_expected_msg_seq_num / with_enable_next_expected_msg_seq_num(enable),
                parse boolean();

            /// `BeginString` (QuickFIX's key): the FIX version of a session named in the
            /// configuration, for the program that creates it; read it resolved with
            /// [`fix_version`](Self::fix_version). `FIX.4.0` to `FIX.4.4`, `FIXT.1.1`
            /// (with `DefaultApplVerID`), or a FIX.5.0 version outright (`FIX.5.0SP2`).
            /// Default FIX.4.4.
            BeginString: value BeginString = BeginString::default(),
                begin_string / with_begin_string(begin_string), parse begin_string();

            /// `DefaultApplVerID` (QuickFIX's key): with `BeginString = FIXT.1.1`, the
            /// application version, [`FixVersion::Fix50`], `Fix50Sp1` or `Fix50Sp2`
            /// (`FIX.5.0`, `FIX.5.0SP1`, `FIX.5.0SP2` or their ApplVerID(1128) values `7`,
            /// `8`, `9` in the file). Ignored for FIX.4.x. Default none.
            DefaultApplVerID: optional FixVersion = None,
                default_appl_ver_id / with_default_appl_ver_id(version), parse appl_ver_id();

            /// `UseDataDictionary` (QuickFIX's key): whether the session validates
            /// against a data dictionary when one is named (`DataDictionary`...) or
            /// found (`DataDictionaryDirectory`). `false`: none, whatever is named.
            /// Default `true`.
            UseDataDictionary: value bool = true,
                use_data_dictionary / with_use_data_dictionary(use_dictionary), parse boolean();

            /// `DataDictionary` (QuickFIX's key): the data dictionary inbound messages
            /// are validated against: a name (`FIX44`, a file stem) looked up in
            /// `DataDictionaryDirectory`, or a path to a QuickFIX XML file (a value
            /// with a `/` or ending in `.xml`; relative to the working directory).
            /// For FIX.5.0 sessions, the application dictionary (see
            /// `TransportDataDictionary`). Default none: the version's dictionary from
            /// `DataDictionaryDirectory` when it is set, else no validation.
            DataDictionary: text String = None,
                data_dictionary / with_data_dictionary(dictionary), parse optional_text();

            /// `TransportDataDictionary` (QuickFIX's key): for FIX.5.0 sessions, the
            /// FIXT.1.1 dictionary (header, trailer, session messages), a name or a path
            /// as `DataDictionary` takes. Default none: `FIXT11` from
            /// `DataDictionaryDirectory`, else `FIXT11.xml` beside the application
            /// dictionary's file. Ignored for FIX.4.x.
            TransportDataDictionary: text String = None,
                transport_data_dictionary / with_transport_data_dictionary(dictionary),
                parse optional_text();

            /// `AppDataDictionary` (QuickFIX's key): for FIX.5.0 sessions, the
            /// application dictionary (`FIX50SP2`...), a name or a path; it beats
            /// `DataDictionary`. Default none. Ignored for FIX.4.x.
            AppDataDictionary: text String = None,
                app_data_dictionary / with_app_data_dictionary(dictionary),
                parse optional_text();

            /// `Username`: the Username(553) the counterparty's Logon must carry.
            /// Default none (not checked).
            Username: text String = None, username / with_username(username),
                parse optional_text();

            /// `Password`: the Password(554) the counterparty's Logon must carry.
            /// Default none (not checked).
            Password: text Secret = None, password / with_password(password),
                parse optional_text();

            /// `AllowedRemoteAddresses`: the addresses the counterparty may connect
            /// from. Default `None`: any address. Set from code, an empty list allows
            /// nobody.
            AllowedRemoteAddresses: list IpNet = None,
                allowed_remote_addresses / with_allowed_remote_addresses(nets), parse ip_nets();

            /// Session-level `ListenPort`: a port this session is (also) accepted on.
            /// Default none: the engine's ports.
            ListenPort: optional u16 = None, listen_port / with_listen_port(port),
                parse optional_port();

            /// `StorageSegmentSize`: the size at which a persistent store's message log
            /// starts a new segment file. Default 64 MiB.
            StorageSegmentSize: value u64 = 64 << 20,
                storage_segment_size / with_storage_segment_size(bytes), parse byte_size();

            /// `StorageMaxSegments`: how many log segments a persistent store keeps (the
            /// oldest are deleted beyond it); 0 keeps every one. Default 0.
            StorageMaxSegments: value usize = 0,
                storage_max_segments / with_storage_max_segments(count),
                parse number(EXPECTED_COUNT);

            /// `StorageMaxArchives`: how many generations archived by sequence resets
            /// a persistent store keeps in its `archive/` folder (the oldest are
            /// deleted beyond it, when the store opens and after each reset); 0 keeps
            /// every one. Default 0.
            StorageMaxArchives: value usize = 0,
                storage_max_archives / with_storage_max_archives(count),
                parse number(EXPECTED_COUNT);

            /// `StorageMaxArchiveAge` (days in the file): archived generations whose
            /// newest file was last written longer ago are deleted, when the store
            /// opens and after each reset. Default 0: kept however old.
            StorageMaxArchiveAge: value Duration = Duration::ZERO,
                storage_max_archive_age / with_storage_max_archive_age(age), parse days();

            /// `StorageSync`: when a persistent store writes through to the disk. Default
            /// [`SyncPolicy::None`].
            StorageSync: value SyncPolicy = SyncPolicy::None,
                storage_sync / with_storage_sync(policy), parse storage_sync();

            /// `IdleStrategy`: how the session's thread waits when it has nothing to do.
            /// Default [`IdleStrategy::Park`].
            IdleStrategy: value IdleStrategy = IdleStrategy::Park,
                idle_strategy / with_idle_strategy(strategy), parse choice();

            /// `SpinTime`: how long a [`IdleStrategy::Spin`] session keeps polling after its
            /// last work before it parks. Default 10 ms.
            SpinTime: value Duration = Duration::from_millis(10),
                spin_time / with_spin_time(time), parse micros();

            /// `EnableLastMsgSeqNumProcessed` (QuickFIX/J's name): every message we
            /// send carries LastMsgSeqNumProcessed(369), the last inbound MsgSeqNum
            /// processed when it was written (a resent message keeps its own; a
            /// reply sent from `on_message` names the message before the one it
            /// answers, which is still being processed, as in QuickFIX/J).
            /// Default `false`.
            EnableLastMsgSeqNumProcessed: value bool = false,
                enable_last_msg_seq_num_processed / with_enable_last_msg_seq_num_processed(enable),
                parse boolean();

            /// `ResendRequestChunkSize` (QuickFIX/J's name): ask for a gap in
            /// ResendRequests of at most this many messages, the next one when the
            /// previous is filled (every number in it received or covered by a
            /// GapFill); the one that reaches the gap's end asks to the end.
            /// Default 0: one request, to the end.
            ResendRequestChunkSize: value u64 = 0,
                resend_request_chunk_size / with_resend_request_chunk_size(messages),
                parse number(EXPECTED_COUNT);

            /// `ResendRequestNumberOfMessagesLimit` (FIX Antenna's
            /// `resendRequestNumberOfMessagesLimit`): the most messages one of the
            /// counterparty's ResendRequests gets resent. A larger range gets its
            /// newest messages this many, and one GapFill over everything before
            /// them, as FIX Antenna does. Default 0: no limit.
            ResendRequestNumberOfMessagesLimit: value u64 = 0,
                resend_request_number_of_messages_limit
                    / with_resend_request_number_of_messages_limit(messages),
                parse number(EXPECTED_COUNT);

            /// `LogonRefusalReply`: a Logon for a known session refused for its
            /// counterparty (credentials, address, the application) gets a
            /// Logout saying why, or silence. Default
            /// [`LogonRefusalReply::Logout`].
            LogonRefusalReply: value LogonRefusalReply = LogonRefusalReply::Logout,
                logon_refusal_reply / with_logon_refusal_reply(reply),
                parse choice();

            /// `PutWhileDisconnected`: what [`Session::put`](crate::Session::put)
            /// does with a message while no counterparty is logged on. Default
            /// [`PutWhileDisconnected::Store`], as QuickFIX does.
            PutWhileDisconnected: value PutWhileDisconnected = PutWhileDisconnected::Store,
                put_while_disconnected / with_put_while_disconnected(mode), parse choice();

            /// `MessageTimeToLive` (FIX Antenna's name): with
            /// [`PutWhileDisconnected::Queue`], how long a put message waits for a
            /// counterparty to log on before it is handed back to
            /// [`Application::on_send_failed`](crate::Application::on_send_failed).
            /// Default zero: it waits as long as the session lives.
            MessageTimeToLive: value Duration = Duration::ZERO,
                message_time_to_live / with_message_time_to_live(ttl), parse millis();

            /// `MessageLog`: whether every message received and sent is written to
            /// the session's message log (see [`crate::message_log`]). Default
            /// [`MessageLogMode::File`].
            MessageLog: value MessageLogMode = MessageLogMode::File,
                message_log / with_message_log(mode), parse choice();

            /// `LogHeartbeats`: whether Heartbeats go into the message log. Default
            /// `true` (QuickFIX/J's `FileLogHeartbeats` leaves them out when false).
            LogHeartbeats: value bool = true,
                log_heartbeats / with_log_heartbeats(log), parse boolean();

            /// `MaskedTags`: the fields whose values the message log replaces with
            /// `***`, as configured. Default `None`: the secrets
            /// [`DEFAULT_MASKED_TAGS`](crate::config::DEFAULT_MASKED_TAGS); an empty
            /// list (`none` in the file) masks nothing. Read it resolved with
            /// [`log_masked_tags`](Self::log_masked_tags).
            MaskedTags: list u32 = None,
                masked_tags / with_masked_tags(tags), parse tag_list();

            /// `MessageLogFileSize` (bytes): a message-log file is closed, and the
            /// next one started, before it would grow past this. Default 256 MiB.
            MessageLogFileSize: value u64 = 256 << 20,
                message_log_file_size / with_message_log_file_size(bytes), parse byte_size();

            /// `MessageLogMaxFiles`: the most message-log files kept; older ones are
            /// deleted when a new one starts. Default 0: every file is kept.
            MessageLogMaxFiles: value usize = 0,
                message_log_max_files / with_message_log_max_files(files),
                parse number(EXPECTED_COUNT);

            /// `MessageLogMaxAge` (days in the file): message-log files last written
            /// longer ago are deleted when a new one starts. Default 0: kept however
            /// old.
            MessageLogMaxAge: value Duration = Duration::ZERO,
                message_log_max_age / with_message_log_max_age(age), parse days();
        }
    };
}

/// Builds a configuration struct from a key table: one field per key (plus
/// the extra fields listed, each with its default), its `Default`, and each
/// key's getter and `with_*` builder.
macro_rules! config_struct {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($(#[$extra_attr:meta])* $extra:ident: $extra_ty:ty = $extra_default:expr,)*
        }
        $(
            $(#[$doc:meta])*
            $key:ident: $kind:ident $ty:ty = $default:expr,
                $getter:ident $(/ $setter:ident($param:ident))?, parse $parser:ident($($arg:expr),*);
        )*
    ) => {
        $(#[$attr])*
        pub struct $name {
            $(pub(super) $getter: $crate::config::keys::field_type!($kind $ty),)*
            $($(#[$extra_attr])* pub(super) $extra: $extra_ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $($getter: $default,)*
                    $($extra: $extra_default,)*
                }
            }
        }

        impl $name {
            $(
                $crate::config::keys::getter!($kind $ty, $getter, $(#[$doc])*);
                $($crate::config::keys::setter!($kind $ty, $key, $getter, $setter($param));)?
            )*
        }
    };
}

/// The field type of a key of kind `$kind` (see the module docs).
macro_rules! field_type {
    (value $ty:ty) => { $ty };
    (optional $ty:ty) => { Option<$ty> };
    (text $ty:ty) => { Option<$ty> };
    (list $ty:ty) => { Option<Vec<$ty>> };
    (path $ty:ty) => { $ty };
    (optional_path $ty:ty) => { Option<$ty> };
    (vec $ty:ty) => { Vec<$ty> };
}

/// A key's getter, named after its field, carrying the table line's docs.
macro_rules! getter {
    ($kind:ident $ty:ty, $getter:ident, $(#[$doc:meta])*) => {
        $(#[$doc])*
        pub fn $getter(&self) -> $crate::config::keys::getter!(@returns $kind $ty) {
            $crate::config::keys::getter!(@read $kind self.$getter)
        }
    };
    (@returns value $ty:ty) => { $ty };
    (@returns optional $ty:ty) => { Option<$ty> };
    (@returns text $ty:ty) => { Option<&str> };
    (@returns list $ty:ty) => { Option<&[$ty]> };
    (@returns path $ty:ty) => { &Path };
    (@returns optional_path $ty:ty) => { Option<&Path> };
    (@returns vec $ty:ty) => { &[$ty] };
    (@read value $field:expr) => { $field };
    (@read optional $field:expr) => { $field };
    (@read text $field:expr) => { $field.as_deref() };
    (@read list $field:expr) => { $field.as_deref() };
    (@read path $field:expr) => { &$field };
    (@read optional_path $field:expr) => { $field.as_deref() };
    (@read vec $field:expr) => { &$field };
}

/// A key's `with_*` builder; its doc points at the getter, which has the
/// key's docs.
macro_rules! setter {
    ($kind:ident $ty:ty, $key:ident, $getter:ident, $setter:ident($param:ident)) => {
        #[doc = concat!(
            "Sets `", stringify!($key), "`: see [`", stringify!($getter), "`](Self::",
            stringify!($getter), ")."
        )]
        #[must_use]
        pub fn $setter(mut self, $param: $crate::config::keys::setter!(@param $kind $ty)) -> Self {
            self.$getter = $crate::config::keys::setter!(@store $kind $param, $ty);
            self
        }
    };
    (@param value $ty:ty) => { $ty };
    (@param optional $ty:ty) => { $ty };
    (@param text $ty:ty) => { impl Into<String> };
    (@param list $ty:ty) => { impl IntoIterator<Item = $ty> };
    (@param path $ty:ty) => { impl Into<PathBuf> };
    (@param optional_path $ty:ty) => { impl Into<PathBuf> };
    (@store value $param:ident, $ty:ty) => { $param };
    (@store optional $param:ident, $ty:ty) => { Some($param) };
    (@store text $param:ident, $ty:ty) => { Some(<$ty>::from($param.into())) };
    (@store list $param:ident, $ty:ty) => { Some($param.into_iter().collect()) };
    (@store path $param:ident, $ty:ty) => { $param.into() };
    (@store optional_path $param:ident, $ty:ty) => { Some($param.into()) };
}

/// The keys' names, in table order.
macro_rules! key_names {
    ($(
        $(#[$doc:meta])*
        $key:ident: $kind:ident $ty:ty = $default:expr,
            $getter:ident $(/ $setter:ident($param:ident))?, parse $parser:ident($($arg:expr),*);
    )*) => {
        &[$(stringify!($key)),*]
    };
}

pub(super) use {config_struct, engine_keys, field_type, getter, session_keys, setter};

/// The engine keys' names, as written in the file.
pub(super) const ENGINE_KEYS: &[&str] = engine_keys!(key_names);

/// The session keys' names, as written after `Session.Default.`.
pub(super) const SESSION_KEYS: &[&str] = session_keys!(key_names);
