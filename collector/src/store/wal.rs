//! The write-ahead log: the records of acknowledged requests, appended to one file per
//! head (`wal/<sequence>.wal`), made durable by one `fdatasync` per group of requests.
//!
//! A record is framed as its length (`u32`, little-endian), the CRC-32 of its payload,
//! and the payload. Reading stops at the first frame that is cut short or fails its
//! checksum: that is a torn tail (a write the machine lost while it went down, never
//! acknowledged), and [`replay`] cuts the file there.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// The bytes before each payload: length and CRC-32.
pub const FRAME_HEADER: usize = 8;

/// The file name of log `sequence`.
pub fn file_name(sequence: u64) -> String {
    format!("{sequence:020}.wal")
}

/// The sequence number of a log file's name, if it is one.
pub fn sequence_of(name: &str) -> Option<u64> {
    name.strip_suffix(".wal")?.parse().ok()
}

/// A log open for appending.
pub struct Log {
    file: File,
    len: u64,
    buffer: Vec<u8>,
}

impl Log {
    /// Creates log `sequence` in `dir` (empty), making its directory entry durable.
    pub fn create(dir: &Path, sequence: u64) -> io::Result<Log> {
        Log::create_named(dir, &file_name(sequence))
    }

    /// Creates the log `name` in `dir` (empty), making its directory entry durable.
    pub fn create_named(dir: &Path, name: &str) -> io::Result<Log> {
        let path = dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        sync_dir(dir)?;
        Ok(Log {
            file,
            len: 0,
            buffer: Vec::new(),
        })
    }

    /// Opens an existing log (already replayed, so it ends with a whole record) to
    /// append to it.
    pub fn append_to(path: &Path) -> io::Result<Log> {
        let file = OpenOptions::new().append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Log {
            file,
            len,
            buffer: Vec::new(),
        })
    }

    /// Bytes in the file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends the records that `write` puts into the buffer it is given (each through
    /// [`Frames::frame`]) and syncs the file's data: when this returns `Ok`, they are on
    /// stable storage. On an error the file is cut back to where it was, so that a
    /// later append does not follow a partial record.
    pub fn append(&mut self, write: impl FnOnce(&mut Frames<'_>)) -> io::Result<()> {
        self.buffer.clear();
        write(&mut Frames(&mut self.buffer));
        let outcome = self
            .file
            .write_all(&self.buffer)
            .and_then(|()| self.file.sync_data());
        match outcome {
            Ok(()) => {
                self.len += self.buffer.len() as u64;
                Ok(())
            }
            Err(error) => {
                // Best effort: if this fails too, replay cuts the partial record.
                let _ = self.file.set_len(self.len);
                Err(error)
            }
        }
    }
}

/// Writes framed records into a buffer.
pub struct Frames<'a>(&'a mut Vec<u8>);

impl Frames<'_> {
    /// Appends one record whose payload `payload` writes.
    pub fn frame(&mut self, payload: impl FnOnce(&mut Vec<u8>)) {
        let header = self.0.len();
        self.0.extend_from_slice(&[0; FRAME_HEADER]);
        payload(self.0);
        let body = &self.0[header + FRAME_HEADER..];
        let len = u32::try_from(body.len()).expect("a record under 4 GiB");
        let crc = crc32fast::hash(body);
        self.0[header..header + 4].copy_from_slice(&len.to_le_bytes());
        self.0[header + 4..header + FRAME_HEADER].copy_from_slice(&crc.to_le_bytes());
    }
}

/// What [`replay`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Whole records read.
    pub records: usize,
    /// Bytes cut off the end (a torn tail); 0 when the file ended with a whole record.
    pub cut: u64,
}

/// Reads every whole record of the log at `path` in order, giving each payload to
/// `record`, and cuts a torn tail off the file (durably). `record` returning an error
/// stops the replay with it.
pub fn replay(
    path: &Path,
    mut record: impl FnMut(&[u8]) -> Result<(), String>,
) -> anyhow::Result<Replayed> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let (records, whole) = read_frames(&bytes, |payload| record(payload))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let cut = (bytes.len() - whole) as u64;
    if cut > 0 {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(whole as u64)?;
        file.sync_all()?;
    }
    Ok(Replayed { records, cut })
}

/// Walks the frames of `bytes`; returns how many whole records it read and where the
/// last one ends.
pub fn read_frames(
    bytes: &[u8],
    mut record: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(usize, usize), String> {
    let mut at = 0;
    let mut records = 0;
    while let Some(header) = bytes.get(at..at + FRAME_HEADER) {
        let len = u32::from_le_bytes(header[..4].try_into().unwrap_or_default()) as usize;
        let crc = u32::from_le_bytes(header[4..].try_into().unwrap_or_default());
        let Some(payload) = bytes.get(at + FRAME_HEADER..at + FRAME_HEADER + len) else {
            break;
        };
        // No record is empty: zeros (a file extended but never written) end the log.
        if len == 0 || crc32fast::hash(payload) != crc {
            break;
        }
        record(payload)?;
        records += 1;
        at += FRAME_HEADER + len;
    }
    Ok((records, at))
}

/// Makes a directory's entries (files created, renamed or removed in it) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(path: &Path) -> (Vec<Vec<u8>>, Replayed) {
        let mut seen = Vec::new();
        let replayed = replay(path, |p| {
            seen.push(p.to_vec());
            Ok(())
        })
        .unwrap();
        (seen, replayed)
    }

    #[test]
    fn records_come_back_in_order_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), 7).unwrap();
        log.append(|f| {
            f.frame(|b| b.extend_from_slice(b"one"));
            f.frame(|b| b.extend_from_slice(b"two"));
        })
        .unwrap();
        log.append(|f| f.frame(|b| b.extend_from_slice(b"three")))
            .unwrap();
        let whole = log.len();
        let path = dir.path().join(file_name(7));
        assert_eq!(sequence_of("00000000000000000007.wal"), Some(7));
        assert_eq!(path.file_name().unwrap(), "00000000000000000007.wal");
        drop(log);

        // A torn write: a frame's start, then nothing.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(file);
        let (seen, replayed) = payloads(&path);
        assert_eq!(seen, [&b"one"[..], b"two", b"three"]);
        assert_eq!(replayed, Replayed { records: 3, cut: 6 });
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);

        // Appending after the cut continues the log.
        let mut log = Log::append_to(&path).unwrap();
        log.append(|f| f.frame(|b| b.extend_from_slice(b"four")))
            .unwrap();
        assert_eq!(payloads(&path).0.len(), 4);
    }

    #[test]
    fn a_damaged_record_ends_the_log_there() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::create(dir.path(), 1).unwrap();
        log.append(|f| {
            for payload in [b"aaaa", b"bbbb", b"cccc"] {
                f.frame(|b| b.extend_from_slice(payload));
            }
        })
        .unwrap();
        let path = dir.path().join(file_name(1));
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[FRAME_HEADER + 4 + FRAME_HEADER] ^= 1; // the second payload
        std::fs::write(&path, &bytes).unwrap();
        let (seen, replayed) = payloads(&path);
        assert_eq!(seen, [b"aaaa"]);
        assert_eq!(replayed.cut, 2 * (FRAME_HEADER as u64 + 4));
    }

    #[test]
    fn frames_never_panic_on_garbage() {
        assert_eq!(read_frames(&[0; 64], |_| Ok(())), Ok((0, 0)));
        for bytes in [&[][..], &[0xff; 8], &[4, 0, 0, 0, 0, 0, 0, 0, 1], &[0; 64]] {
            let _ = read_frames(bytes, |_| Ok(()));
        }
    }
}
