//! The generations a store archived on [`reset`](crate::store::MessageStore::reset)
//! (`archive/NNNNNNNNNN/`): listing them oldest first, for
//! [`inspect`](super::inspect()) and for retention, and deleting those that
//! [`max_archives`](FileStoreOptions::max_archives) and
//! [`max_archive_age`](FileStoreOptions::max_archive_age) no longer keep.
//!
//! One listing serves both, so what `inspect` shows is what retention counts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::options::FileStoreOptions;
use crate::codec::UtcTimestamp;

/// A folder in `archive/`.
#[derive(Debug)]
pub(super) struct Archived {
    /// The folder.
    pub(super) path: PathBuf,
    /// Its name, lossily as text.
    pub(super) name: String,
    /// Its place among archived generations: the generation number and the
    /// `-N` suffix a crash can add ([`free_archive_name`](super::disk::free_archive_name));
    /// `None` for a name the store never gives, which retention never deletes.
    pub(super) order: Option<(u64, u64)>,
}

/// The folders in `archive` (which may not exist), oldest first: archived
/// generations in generation order, after any folder the store did not name.
/// Symbolic links are left out: the store makes none, and retention must not
/// reach through one.
pub(super) fn list(archive: &Path) -> io::Result<Vec<Archived>> {
    let entries = match fs::read_dir(archive) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        found.push(Archived {
            path: entry.path(),
            order: parse_archive_name(&name),
            name,
        });
    }
    // By number, not by name: `0000000001-1` (a second archive of generation 1
    // after a crash) comes before `0000000002`, and an 11-digit generation after
    // every 10-digit one.
    found.sort_by(|a, b| (a.order, &a.name).cmp(&(b.order, &b.name)));
    Ok(found)
}

/// The newest modification time of the files in the generation folder `dir`
/// (its header and segments): its last write. `None` when it holds no file
/// whose time can be read.
pub(super) fn last_write(dir: &Path) -> Option<SystemTime> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .filter(fs::Metadata::is_file)
        .filter_map(|m| m.modified().ok())
        .max()
}

/// Deletes the archived generations in `archive` that `options` no longer
/// keeps: the oldest beyond [`max_archives`](FileStoreOptions::max_archives),
/// and those last written longer than
/// [`max_archive_age`](FileStoreOptions::max_archive_age) before the options'
/// clock says it is now. Each deletion is logged; one that fails is a warning,
/// never an error of the store: the folder is only disk space, and it is tried
/// again the next time.
///
/// The live generation is in `current/`, never under `archive/`, so it cannot
/// be reached from here; folders the store did not name are never touched.
pub(super) fn retain(archive: &Path, options: &FileStoreOptions) {
    let (max, max_age) = (options.max_archives, options.max_archive_age);
    if max.is_none() && max_age.is_none() {
        return;
    }
    let generations: Vec<Archived> = match list(archive) {
        Ok(found) => found.into_iter().filter(|a| a.order.is_some()).collect(),
        Err(e) => {
            log::warn!(
                "{}: cannot list the archived generations to apply retention: {e}",
                archive.display()
            );
            return;
        }
    };
    let excess = max.map_or(0, |max| generations.len().saturating_sub(max.get()));
    let now = options.clock.now_utc();
    for (i, generation) in generations.iter().enumerate() {
        let why = if let Some(max) = max.filter(|_| i < excess) {
            format!("older than the newest {max} kept")
        } else if let Some((age, max_age)) =
            max_age.and_then(|max_age| Some((too_old(&generation.path, now, max_age)?, max_age)))
        {
            format!(
                "last written {} ago, more than the {} kept",
                describe(age),
                describe(max_age)
            )
        } else {
            continue;
        };
        match fs::remove_dir_all(&generation.path) {
            Ok(()) => log::info!(
                "{}: archived generation deleted: {why}",
                generation.path.display()
            ),
            Err(e) => log::warn!(
                "{}: cannot delete the archived generation ({why}): {e}",
                generation.path.display()
            ),
        }
    }
    // The deletions are not synced: one undone by a power cut is done again at
    // the next open.
}

/// How long ago the generation in `dir` was last written, if longer than
/// `max_age` before `now`. A generation without a readable time, or written
/// after `now` (a clock set back), has no age to go by and is kept.
fn too_old(dir: &Path, now: UtcTimestamp, max_age: Duration) -> Option<Duration> {
    let written = UtcTimestamp::from_system_time(last_write(dir)?);
    let age = now.abs_diff(written);
    (written < now && age > max_age).then_some(age)
}

/// `NNNNNNNNNN` or `NNNNNNNNNN-N`, as [`free_archive_name`](super::disk::free_archive_name)
/// names them: the generation, and 0 or N + 1 (so the unsuffixed name sorts first).
fn parse_archive_name(name: &str) -> Option<(u64, u64)> {
    let (digits, suffix) = match name.split_once('-') {
        Some((digits, suffix)) => (digits, Some(suffix)),
        None => (name, None),
    };
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    if digits.len() < 10 {
        return None;
    }
    let generation = number(digits)?;
    let copy = match suffix {
        None => 0,
        Some(n) => number(n)?.checked_add(1)?,
    };
    Some((generation, copy))
}

/// A duration for the log, in days when it is a day or more (retention ages
/// are set in days), else in seconds.
fn describe(d: Duration) -> String {
    const DAY: u64 = 86_400;
    match d.as_secs() {
        DAY => "1 day".to_owned(),
        secs if secs % DAY == 0 && secs > 0 => format!("{} days", secs / DAY),
        secs if secs > DAY => format!("{:.1} days", d.as_secs_f64() / DAY as f64),
        secs => format!("{secs} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_parse_as_the_store_gives_them() {
        assert_eq!(parse_archive_name("0000000001"), Some((1, 0)));
        assert_eq!(parse_archive_name("0000000001-1"), Some((1, 2)));
        assert_eq!(parse_archive_name("10000000000"), Some((10_000_000_000, 0)));
        for other in [
            "1",
            "0000000001-",
            "0000000001-x",
            "backup",
            "00000000a1",
            "",
        ] {
            assert_eq!(parse_archive_name(other), None, "{other}");
        }
    }

    #[test]
    fn ages_read_in_days() {
        assert_eq!(describe(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(describe(Duration::from_secs(86_400)), "1 day");
        // Past the age kept, but by less than a day: not written as equal to it.
        assert_eq!(describe(Duration::from_secs(7 * 86_400 + 7200)), "7.1 days");
        assert_eq!(describe(Duration::from_secs(90)), "90 s");
    }
}
