//! CheckSum(10): the byte sum modulo 256 of everything before the `10=` field.
//!
//! This runs on every inbound and outbound message, so it is written to let the
//! compiler vectorise it: summing in `u8` with wrapping adds is exactly "mod 256".

/// The FIX checksum of `bytes`.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, &b| acc.wrapping_add(b))
}

/// The three ASCII digits of a CheckSum(10) value, zero-padded as the spec requires.
#[inline]
pub fn checksum_digits(sum: u8) -> [u8; 3] {
    [b'0' + sum / 100, b'0' + (sum / 10) % 10, b'0' + sum % 10]
}

/// Parses the three-digit value of a CheckSum(10) field. `None` unless exactly three ASCII digits ≤ 255.
#[inline]
pub fn parse_checksum(digits: &[u8]) -> Option<u8> {
    match digits {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0');
            u8::try_from(v).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_modulo_256() {
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(&[200, 100]), 44);
        let all: Vec<u8> = (0..=255).collect();
        let expected = (0..=255u32).sum::<u32>() % 256;
        assert_eq!(u32::from(checksum(&all)), expected);
    }

    #[test]
    fn digits_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(parse_checksum(&checksum_digits(v)), Some(v));
        }
        assert_eq!(&checksum_digits(7), b"007");
        assert_eq!(parse_checksum(b"256"), None);
        assert_eq!(parse_checksum(b"12"), None);
        assert_eq!(parse_checksum(b"1a2"), None);
        assert_eq!(parse_checksum(b"0123"), None);
    }
}
