//! `MemoryStore`: the store in memory, for tests, benchmarks and transient sessions.

use crate::store::{MessageStore, StoreError, read_batch};

/// Sequence numbers and sent frames in memory: lost when the process ends.
///
/// Frames are kept in one growing buffer with an index, so storing a message
/// allocates only when the buffers grow.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    next_sender: u64,
    next_target: u64,
    data: Vec<u8>,
    /// (seq, start, end) into `data`, ascending by seq.
    index: Vec<(u64, usize, usize)>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store at sequence numbers 1 and 1.
    pub fn new() -> Self {
        Self {
            next_sender: 1,
            next_target: 1,
            data: Vec::new(),
            index: Vec::new(),
        }
    }

    /// The number of stored frames.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no frame is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

impl MessageStore for MemoryStore {
    fn next_sender_seq(&self) -> u64 {
        self.next_sender
    }

    fn next_target_seq(&self) -> u64 {
        self.next_target
    }

    fn set_next_sender_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        self.next_sender = seq;
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: u64) -> Result<(), StoreError> {
        self.next_target = seq;
        Ok(())
    }

    fn append(&mut self, seq: u64, frame: &[u8]) -> Result<(), StoreError> {
        if self.index.last().is_some_and(|&(last, _, _)| seq <= last) {
            return Err(StoreError::OutOfOrder {
                seq,
                expected: self.next_sender,
            });
        }
        let start = self.data.len();
        self.data.extend_from_slice(frame);
        self.index.push((seq, start, self.data.len()));
        self.next_sender = seq.saturating_add(1);
        Ok(())
    }

    fn read_range(
        &self,
        begin: u64,
        end: u64,
        max: usize,
        f: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<u64, StoreError> {
        let first = self.index.partition_point(|&(seq, _, _)| seq < begin);
        read_batch(
            self.index[first..].iter(),
            |&(seq, _, _)| seq,
            end,
            max,
            |&(seq, start, stop)| {
                f(seq, &self.data[start..stop]);
                Ok(())
            },
        )
    }

    fn reset(&mut self) -> Result<(), StoreError> {
        *self = Self::new();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    store_contract_tests!(contract, (MemoryStore::new(), ()));

    #[test]
    fn reset_empties_the_buffers() {
        let mut s = MemoryStore::new();
        s.append(1, b"x").unwrap();
        s.set_next_target_seq(9).unwrap();
        assert_eq!(s.len(), 1);
        s.reset().unwrap();
        assert_eq!(
            (s.next_sender_seq(), s.next_target_seq(), s.len()),
            (1, 1, 0)
        );
        assert!(s.is_empty());
    }
}
