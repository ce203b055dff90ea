//! The store's checksum: a 64-bit multiply-and-fold hash of a key and a byte
//! string, written for this store.
//!
//! # What it is for
//!
//! Every log record and every header field the store reads back carries one, so
//! that recovery on open can tell a record (or a sequence-number slot) that was
//! written whole from one that was not. What it has to catch:
//!
//! - **Torn writes.** A crash between the stores of an append, or a power cut
//!   between two sectors, leaves the tail of a record as zeros (the segment is
//!   zero-filled before use) or as the stale bytes of an earlier write, next to a
//!   header that may be complete.
//! - **Truncation.** A file cut short, or a length field that does not match the
//!   bytes after it.
//! - **Random corruption.** Bits flipped by the medium, or a sector from
//!   elsewhere.
//!
//! It does not have to resist an adversary (whoever can write the files can write
//! valid records), and it does not need CRC's algebraic guarantees (every burst
//! up to 32 bits caught): those are designed for noisy serial links, where errors
//! come in short bursts. Here the records are written by this process and checked
//! when the store is opened, and the damage is whole sectors, pages or tails; for
//! that what matters is that any damage passes with probability about 2^-n for an
//! n-bit check value, which a well-mixed hash gives. Records store 32 bits of it
//! (the 16-byte record header has room for no more), so a damaged record passes as
//! valid with probability about 2^-32, and only then when the damage also leaves a
//! plausible length and a sequence number above the previous record's; the header
//! stores all 64 bits.
//!
//! # The construction
//!
//! The core step is the *folded multiply*: the full 128-bit product of two 64-bit
//! words, its high and low halves XORed together. Every bit of either operand
//! reaches every bit of the result, in one multiply instruction (no tables, no
//! unsafe intrinsics), and the change a flipped input bit makes depends on the
//! other operand, so errors do not cancel in fixed patterns as they do through
//! linear steps (XOR, rotation, or a 64-bit multiply, which keeps a difference in
//! the top bit where it is).
//!
//! - Four 64-bit lanes start from constants, the key in lane 0 and the length in
//!   lane 1 (so inputs of different lengths never compare equal by padding).
//! - The input is read as 16-byte blocks of two little-endian words `(lo, hi)`,
//!   block `j` going to lane `j % 4` (so a 64-byte stripe feeds each lane once):
//!   `lane = fold(lane ^ lo, K ^ hi)`, with a different constant `K` per lane.
//!   The lane is inside the product, so each step depends on all that came before
//!   it in its lane; the four lanes are independent chains that the CPU runs side
//!   by side, which is where the speed comes from (one multiply's latency per 64
//!   bytes rather than per 16).
//! - The last 1 to 64 bytes are read as blocks too, the final block being the last
//!   16 bytes of the input (overlapping the one before when the length is not a
//!   multiple of 16). Inputs under 16 bytes are read as two overlapping words (or
//!   halves, or three bytes): every byte is read, and with the length already in
//!   the state, the reading is unambiguous.
//! - The lanes are folded together pairwise and the result goes through a
//!   xorshift-multiply finalizer (a bijection), so every input bit affects every
//!   output bit with probability about one half (tested below), and any 32 bits
//!   of the output are as good as the whole.
//!
//! A step wipes its lane only if `lane ^ lo` or `K ^ hi` is exactly zero; the
//! first has probability 2^-64 (the lane is a hash value), and the second needs
//! the data to hold a specific random-looking 8-byte constant at a specific
//! offset. Both are far below the 2^-32 the records are checked with.
//!
//! The constants are "nothing up my sleeve" numbers: the first 64 bits of the
//! fractional parts of the square roots of the primes 2 to 37.

/// `frac(sqrt(p)) * 2^64` for the primes 2, 3, 5, ..., 37.
const K: [u64; 12] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
    0xcbbb_9d5d_c105_9ed8,
    0x629a_292a_367c_d507,
    0x9159_015a_3070_dd17,
    0x152f_ecd8_f70e_5939,
];

/// The full product of `a` and `b`, high half XOR low half.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// One 16-byte block into a lane.
#[inline(always)]
fn step(lane: u64, k: u64, lo: u64, hi: u64) -> u64 {
    fold(lane ^ lo, k ^ hi)
}

#[inline(always)]
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn u32_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// A bijective finalizer: xorshifts and multiplies by odd constants, so every
/// input bit reaches every output bit.
#[inline(always)]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 32;
    h = h.wrapping_mul(K[9] | 1);
    h ^= h >> 29;
    h = h.wrapping_mul(K[11] | 1);
    h ^ (h >> 32)
}

/// The 64-bit checksum of `key` and `data` (and so of `data.len()`).
#[inline]
pub(crate) fn checksum(key: u64, data: &[u8]) -> u64 {
    let n = data.len();
    let mut s = [K[0] ^ key, K[1] ^ n as u64, K[2], K[3]];
    if n >= 16 {
        // Whole stripes, leaving 1 to 64 bytes.
        let body = (n - 1) / 64 * 64;
        for stripe in data[..body].chunks_exact(64) {
            for (i, lane) in s.iter_mut().enumerate() {
                let at = 16 * i;
                *lane = step(*lane, K[4 + i], u64_at(stripe, at), u64_at(stripe, at + 8));
            }
        }
        // What is left: its whole blocks but the last, then the input's last 16
        // bytes.
        let tail = &data[body..];
        let lead = (tail.len() - 1) / 16 * 16;
        for (i, block) in tail[..lead].chunks_exact(16).enumerate() {
            s[i] = step(s[i], K[4 + i], u64_at(block, 0), u64_at(block, 8));
        }
        let i = lead / 16;
        s[i] = step(s[i], K[4 + i], u64_at(data, n - 16), u64_at(data, n - 8));
    } else if n >= 8 {
        s[0] = step(s[0], K[4], u64_at(data, 0), u64_at(data, n - 8));
    } else if n >= 4 {
        s[0] = step(s[0], K[4], u32_at(data, 0), u32_at(data, n - 4));
    } else if n > 0 {
        let three = u64::from(data[0]) | u64::from(data[n / 2]) << 8 | u64::from(data[n - 1]) << 16;
        s[0] = step(s[0], K[4], three, 0);
    }
    finish(fold(s[0] ^ K[8], s[1] ^ K[9]) ^ fold(s[2] ^ K[10], s[3] ^ K[11]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 32 bits a log record keeps.
    fn low(h: u64) -> u32 {
        h as u32
    }

    /// Pseudo-random bytes (a xorshift generator), the same on every run.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(K[0]) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    /// The construction as the module docs state it: the list of blocks, block `j`
    /// into lane `j % 4`. Written apart from the fast path, to check its indexing.
    fn reference(key: u64, data: &[u8]) -> u64 {
        let n = data.len();
        let words = |b: &[u8]| (u64_at(b, 0), u64_at(b, 8));
        let mut blocks = Vec::new();
        if n >= 16 {
            let mut at = 0;
            while n - at > 16 {
                blocks.push(words(&data[at..at + 16]));
                at += 16;
            }
            blocks.push(words(&data[n - 16..]));
        } else if n >= 8 {
            blocks.push((u64_at(data, 0), u64_at(data, n - 8)));
        } else if n >= 4 {
            blocks.push((u32_at(data, 0), u32_at(data, n - 4)));
        } else if n > 0 {
            let three =
                u64::from(data[0]) + (u64::from(data[n / 2]) << 8) + (u64::from(data[n - 1]) << 16);
            blocks.push((three, 0));
        }
        let mut s = [K[0] ^ key, K[1] ^ n as u64, K[2], K[3]];
        for (j, &(lo, hi)) in blocks.iter().enumerate() {
            s[j % 4] = fold(s[j % 4] ^ lo, K[4 + j % 4] ^ hi);
        }
        finish(fold(s[0] ^ K[8], s[1] ^ K[9]) ^ fold(s[2] ^ K[10], s[3] ^ K[11]))
    }

    #[test]
    fn known_answers() {
        // These pin the on-disk format: a change here needs a new store VERSION.
        assert_eq!(checksum(0, b""), 0x03a0_8b90_449d_7614);
        assert_eq!(checksum(1, b""), 0x2747_473c_25ff_e050);
        assert_eq!(checksum(0, b"a"), 0x4413_7262_b97b_3b22);
        assert_eq!(checksum(0, b"123456789"), 0xc44d_463b_4974_31f1);
        assert_eq!(
            checksum(7, b"The quick brown fox jumps over the lazy dog"),
            0xf9d2_5072_f0bc_892b
        );
        let long: Vec<u8> = (0..208u32).map(|i| (i * 7 + 3) as u8).collect();
        for (n, want) in [
            (3, 0xc262_6e7d_919e_640e),
            (7, 0x29bb_e847_ba44_97d5),
            (15, 0x2bee_902e_76bb_25bf),
            (16, 0x0b8b_8291_5cd4_f8ae),
            (17, 0x9010_73fe_aa4b_02d6),
            (64, 0xbb46_94de_668b_f495),
            (65, 0x2712_1324_fe6b_deff),
            (200, 0x023a_4906_deb0_f86d),
            (208, 0xbd7d_3f6d_4dfd_f195),
        ] {
            assert_eq!(checksum(42, &long[..n]), want, "length {n}");
        }
    }

    #[test]
    fn the_fast_path_matches_the_reference_at_every_length() {
        let data = bytes(1, 300);
        for n in 0..=data.len() {
            for key in [0, 1, u64::MAX] {
                assert_eq!(checksum(key, &data[..n]), reference(key, &data[..n]), "{n}");
            }
        }
    }

    #[test]
    fn every_single_flipped_bit_changes_the_low_32_bits() {
        for n in (0..=70).chain([127, 128, 129, 200, 208, 300]) {
            let data = bytes(n as u64 + 2, n);
            let key = 0x1234_5678_9abc_def0;
            let good = low(checksum(key, &data));
            for bit in 0..64 {
                assert_ne!(
                    low(checksum(key ^ 1 << bit, &data)),
                    good,
                    "{n}: key bit {bit}"
                );
            }
            let mut bad = data.clone();
            for bit in 0..n * 8 {
                bad[bit / 8] ^= 1 << (bit % 8);
                assert_ne!(low(checksum(key, &bad)), good, "{n}: bit {bit}");
                bad[bit / 8] ^= 1 << (bit % 8);
            }
        }
    }

    #[test]
    fn truncated_zeroed_and_stale_tails_are_caught() {
        for n in [17, 64, 200, 208, 300] {
            let data = bytes(n as u64, n);
            let stale = bytes(n as u64 + 1000, n);
            let good = low(checksum(9, &data));
            let mut prefixes = std::collections::HashSet::new();
            for k in 0..n {
                // Cut short: a shorter record with the same header fields.
                assert_ne!(low(checksum(9, &data[..k])), good, "{n}: cut at {k}");
                prefixes.insert(low(checksum(9, &data[..k])));
                // The right length, but only the first k bytes reached the file.
                let mut torn = data.clone();
                torn[k..].fill(0);
                assert_ne!(low(checksum(9, &torn)), good, "{n}: zeros from {k}");
                torn[k..].copy_from_slice(&stale[k..]);
                assert_ne!(low(checksum(9, &torn)), good, "{n}: stale from {k}");
            }
            assert_eq!(prefixes.len(), n, "{n}: two prefixes share a checksum");
        }
    }

    #[test]
    fn blocks_are_position_dependent() {
        let data = bytes(5, 208);
        let good = checksum(0, &data);
        for (a, b) in [(0, 16), (0, 64), (16, 80), (64, 128), (0, 192)] {
            let mut swapped = data.clone();
            for i in 0..16 {
                swapped.swap(a + i, b + i);
            }
            assert_ne!(checksum(0, &swapped), good, "blocks at {a} and {b}");
        }
    }

    #[test]
    fn each_input_bit_flips_each_output_bit_half_the_time() {
        // Avalanche: over many inputs and every input bit (key and data), each
        // output bit flips with probability close to 1/2, so any 32 of them are as
        // good a check as any other.
        let n = 208;
        let mut flips = [0u32; 64];
        let mut trials = 0u32;
        for seed in 0..24 {
            let data = bytes(seed + 100, n);
            let key = u64::from_le_bytes(bytes(seed + 200, 8).try_into().unwrap());
            let good = checksum(key, &data);
            let mut count = |h: u64| {
                let d = h ^ good;
                for (b, f) in flips.iter_mut().enumerate() {
                    *f += (d >> b) as u32 & 1;
                }
                trials += 1;
            };
            for bit in 0..64 {
                count(checksum(key ^ 1 << bit, &data));
            }
            let mut bad = data.clone();
            for bit in 0..n * 8 {
                bad[bit / 8] ^= 1 << (bit % 8);
                count(checksum(key, &bad));
                bad[bit / 8] ^= 1 << (bit % 8);
            }
        }
        for (b, &f) in flips.iter().enumerate() {
            let p = f64::from(f) / f64::from(trials);
            assert!(
                (0.48..0.52).contains(&p),
                "output bit {b} flips with p = {p}"
            );
        }
    }
}
