//! Session key → folder name: safe for any CompID characters on any file system.
//!
//! Bytes in `[A-Za-z0-9._-]` are kept (so "FIX.4.4-ISLD-TW" stays readable), every
//! other byte is percent-encoded with upper-case hex, and a leading `.` is encoded
//! too, so no name is `.`, `..` or hidden. Percent-encoding alone is injective, but
//! two further hazards need a suffix `~` + 16 hex digits of a hash of the whole key:
//!
//! - **Case-insensitive file systems** (macOS, Windows) would fold "ABC" and "abc"
//!   into one folder. Every key holding an upper-case letter gets the suffix, and
//!   `~` never appears unencoded otherwise, so no two keys fold together unless
//!   their 64-bit hashes collide.
//! - **Long keys** would exceed `NAME_MAX` (255 bytes on most systems), so the
//!   encoded name is cut at [`MAX_PLAIN`] bytes, on an escape boundary, and the
//!   hash keeps the cut names apart.
//!
//! A hash can collide, so the store also writes the key into the folder and
//! refuses to open it for a different key.

/// Longest encoded key kept before the hash suffix.
pub(crate) const MAX_PLAIN: usize = 96;

/// The name of the folder that [`FileStore::open`](crate::store::FileStore::open)
/// keeps session `key`'s store in, under its root (`FIX.4.4-ISLD-TW~` and a hash
/// for "FIX.4.4-ISLD-TW"); `None` for the empty key. The message log's folder
/// has the same name under its own root.
pub fn folder_name(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let bytes = key.as_bytes();
    let mut name = String::with_capacity(bytes.len() + 17);
    let mut truncated = false;
    for (i, &b) in bytes.iter().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        let width = if keep { 1 } else { 3 };
        if name.len() + width > MAX_PLAIN {
            truncated = true;
            break;
        }
        if keep {
            name.push(char::from(b));
        } else {
            name.push('%');
            name.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            name.push(char::from(HEX_UPPER[usize::from(b & 0xF)]));
        }
    }
    if truncated || bytes.iter().any(u8::is_ascii_uppercase) {
        name.push('~');
        let h = fnv1a64(bytes);
        for shift in (0..16).rev() {
            name.push(char::from(HEX_LOWER[((h >> (shift * 4)) & 0xF) as usize]));
        }
    }
    Some(name)
}

/// FNV-1a, 64 bits: small, stable across releases and platforms (unlike std's
/// `DefaultHasher`), which a name on disk needs.
fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str) -> bool {
        name.len() <= 255
            && name != "."
            && name != ".."
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-%~".contains(&b))
    }

    #[test]
    fn readable_keys_stay_readable() {
        assert_eq!(folder_name("fix.4.4-isld-tw").unwrap(), "fix.4.4-isld-tw");
        let upper = folder_name("FIX.4.4-ISLD-TW").unwrap();
        assert!(upper.starts_with("FIX.4.4-ISLD-TW~"), "{upper}");
        assert_eq!(upper.len(), "FIX.4.4-ISLD-TW".len() + 17);
    }

    #[test]
    fn hostile_keys_become_safe_names() {
        for key in [
            ".",
            "..",
            "../../etc/passwd",
            "a/b",
            "a\\b",
            "nul\0byte",
            "ctl\x01\x1f\x7f",
            ".hidden",
            "spaces and: colons*?",
            "ünïcödé",
            "~tilde",
            "%41",
        ] {
            let name = folder_name(key).unwrap();
            assert!(safe(&name), "{key:?} -> {name:?}");
        }
        assert_eq!(folder_name(".").unwrap(), "%2E");
        assert_eq!(folder_name("..").unwrap(), "%2E.");
        assert_eq!(folder_name("a/b").unwrap(), "a%2Fb");
        assert_eq!(folder_name("%41").unwrap(), "%2541");
        assert_eq!(folder_name(""), None);
    }

    #[test]
    fn distinct_keys_get_distinct_names_even_folded_to_one_case() {
        let keys = [
            "abc", "ABC", "Abc", "a%2Fb", "a/b", "a.b", "a_b", "x~y", "X~Y",
        ];
        let names: Vec<String> = keys
            .iter()
            .map(|k| folder_name(k).unwrap().to_ascii_lowercase())
            .collect();
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                assert_ne!(names[i], names[j], "{} vs {}", keys[i], keys[j]);
            }
        }
    }

    #[test]
    fn long_keys_are_cut_and_kept_apart() {
        let a = "x".repeat(1000) + "a";
        let b = "x".repeat(1000) + "b";
        let slashes = "/".repeat(1000);
        let (na, nb) = (folder_name(&a).unwrap(), folder_name(&b).unwrap());
        assert_ne!(na, nb);
        for n in [&na, &nb, &folder_name(&slashes).unwrap()] {
            assert!(n.len() <= MAX_PLAIN + 17, "{n}");
            assert!(safe(n), "{n}");
        }
        // Cut on an escape boundary: never a dangling '%' or '%X'.
        let s = folder_name(&slashes).unwrap();
        let plain = s.split('~').next().unwrap();
        assert_eq!(plain.len() % 3, 0);
    }
}
