//! The resends the session writes, followed frame by frame: every PossDup frame
//! (a resent application message or a SequenceReset-GapFill) covers a run of
//! MsgSeqNums, and the frames of one resend cover its range exactly once, in
//! order, with no hole; `ResendServed` then names a range the frames covered and
//! counts them right.
//!
//! One resend is served at a time: a new one (a ResendRequest, or a Logon with
//! NextExpectedMsgSeqNum) replaces the one in progress, whose frames simply stop.
//! A frame that does not continue the run in progress must therefore start a
//! resend, in a step that fed such a frame, at the number it asks from.

/// The range a frame fed in this step would have resent, had it been served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Start {
    pub(crate) begin: u64,
    /// Inclusive.
    pub(crate) end: u64,
    /// A ResendRequest (ResendRequestNumberOfMessagesLimit applies), not a Logon.
    pub(crate) limited: bool,
}

/// Numbers `first..end` covered by one frame.
#[derive(Debug)]
struct Seg {
    first: u64,
    /// Exclusive.
    end: u64,
    gap_fill: bool,
    /// Set on the first frame of a resend started by a known request.
    start: Option<Start>,
}

/// The contiguous run of frames written since the last resend started; a resend
/// that starts where the previous one stopped extends it.
#[derive(Debug, Default)]
pub(crate) struct Resends {
    run: Vec<Seg>,
}

impl Resends {
    /// The session started over (reset, disconnect): nothing is being served.
    pub(crate) fn clear(&mut self) {
        self.run.clear();
    }

    /// A PossDup frame covering `first..end`. `start` is the range a request fed in
    /// this step asks for; the first frame of a new resend takes it.
    pub(crate) fn frame(
        &mut self,
        first: u64,
        end: u64,
        gap_fill: bool,
        start: &mut Option<Start>,
        shown: &str,
    ) {
        assert!(end > first, "{shown}");
        let next = self.run.last().map(|s| s.end);
        if next == Some(first) {
            self.run.push(Seg {
                first,
                end,
                gap_fill,
                start: None,
            });
            return;
        }
        let Some(s) = start.take() else {
            panic!(
                "PossDup frame {first} does not continue the resend in progress (next {next:?}) \
                 and nothing fed in this step starts one: {shown}"
            );
        };
        assert_eq!(
            first, s.begin,
            "a resend starts at {first}, the request asks from {}: {shown}",
            s.begin
        );
        self.run.clear();
        self.run.push(Seg {
            first,
            end,
            gap_fill,
            start: Some(s),
        });
    }

    /// `ResendServed { begin, end, resent, gap_filled }`: the frames written cover
    /// exactly `begin..=end`, `resent` of them application messages, the rest
    /// GapFills; under `limit` (for a ResendRequest), only the newest `limit`
    /// numbers are resent.
    pub(crate) fn served(
        &mut self,
        begin: u64,
        end: u64,
        resent: u64,
        gap_filled: u64,
        limit: u64,
    ) {
        let what =
            format!("ResendServed {begin}..={end} (resent {resent}, gap filled {gap_filled})");
        let Some(i) = self.run.iter().rposition(|s| s.first == begin) else {
            panic!(
                "{what}, but no resend frame starts at {begin}: {:?}",
                self.run
            );
        };
        let mut j = i;
        while self.run[j].end <= end {
            j += 1;
            assert!(
                j < self.run.len(),
                "{what}, but the frames written stop at {}",
                self.run[j - 1].end
            );
        }
        assert_eq!(
            self.run[j].end,
            end + 1,
            "{what}, but a frame covers {}..{}",
            self.run[j].first,
            self.run[j].end
        );
        let segs = &self.run[i..=j];
        let resent_seen = segs.iter().filter(|s| !s.gap_fill).count() as u64;
        let filled_seen: u64 = segs
            .iter()
            .filter(|s| s.gap_fill)
            .map(|s| s.end - s.first)
            .sum();
        assert_eq!(resent, resent_seen, "{what}: frames resent {resent_seen}");
        assert_eq!(
            gap_filled, filled_seen,
            "{what}: numbers gap-filled {filled_seen}"
        );
        if let Some(s) = segs[0].start {
            assert_eq!(
                (begin, end),
                (s.begin, s.end),
                "{what}, the request asked for {}..={}",
                s.begin,
                s.end
            );
            if s.limited && limit > 0 {
                // The newest `limit` numbers, everything before in GapFills.
                let oldest = (end + 1).saturating_sub(limit).max(begin);
                assert!(resent <= limit, "{what}: more than the limit {limit}");
                for seg in segs.iter().filter(|s| !s.gap_fill) {
                    assert!(
                        seg.first >= oldest,
                        "{what}: {} resent, older than the newest {limit}",
                        seg.first
                    );
                }
            }
        }
        self.run.drain(..=j);
    }
}
