//! Reading one of the user's files (config, theme, keymap, runbook): only a
//! regular file is opened, and only UTF-8 text is accepted.
//!
//! A named pipe would block the reader until something writes to it, a
//! device may never end, a directory or a symbolic link loop cannot be read:
//! each is reported as a problem naming the file, and never opened. The file
//! type is checked before opening (following a symbolic link) and again on
//! the opened file.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::problem::Problem;

/// The text of the file at `path` (`file` names it in problems); `Ok(None)`
/// when nothing is there.
pub fn read_text(path: &Path, file: &str) -> Result<Option<String>, Problem> {
    let problem = |message: String| Problem::new(file, None, None, message);
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(problem(format!("cannot read: {e}"))),
        Ok(_) => {}
    }
    check_regular(path).map_err(problem)?;
    let mut f = fs::File::open(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    // The path may have been replaced between the check and the open.
    match f.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(m) => return Err(problem(not_regular(&m.file_type()))),
        Err(e) => return Err(problem(format!("cannot read: {e}"))),
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)
        .map_err(|e| problem(format!("cannot read: {e}")))?;
    decode(bytes, file).map(Some)
}

/// `Ok` when `path` is a regular file (or a symbolic link to one); else
/// what it is instead, worded to follow the file's name: `is a named pipe
/// (FIFO), not a regular file; not read`, `does not exist`, ... Nothing is
/// opened.
pub fn check_regular(path: &Path) -> Result<(), String> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("does not exist".into()),
        Err(e) => return Err(format!("cannot read: {e}")),
    };
    let meta = if meta.file_type().is_symlink() {
        match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(
                    "is a symbolic link to nothing (its target does not exist); not read".into(),
                );
            }
            Err(e) => {
                return Err(format!(
                    "is a symbolic link that cannot be followed ({e}); not read"
                ));
            }
        }
    } else {
        meta
    };
    if meta.is_file() {
        Ok(())
    } else {
        Err(not_regular(&meta.file_type()))
    }
}

fn not_regular(t: &fs::FileType) -> String {
    format!("is {}, not a regular file; not read", kind(t))
}

/// The bytes as text, or a problem at the line of the first byte that is
/// not UTF-8.
pub fn decode(bytes: Vec<u8>, file: &str) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let byte = bytes.get(at).copied().unwrap_or_default();
        Problem::new(
            file,
            Some(line),
            None,
            format!("not UTF-8 text (byte 0x{byte:02x} at offset {at}); not read"),
        )
    })
}

/// `a directory`, `a named pipe (FIFO)`, ... for messages.
fn kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_names_the_line_of_the_bad_byte() {
        assert_eq!(decode(b"a\nb".to_vec(), "f").unwrap(), "a\nb");
        let p = decode(b"a = 1\nb = \"\xff\"\n".to_vec(), "f.toml").unwrap_err();
        assert_eq!(
            p.to_string(),
            "f.toml:2: not UTF-8 text (byte 0xff at offset 11); not read"
        );
    }

    #[test]
    fn a_missing_file_is_none_and_a_directory_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_text(&dir.path().join("nope"), "nope"), Ok(None));
        let p = read_text(dir.path(), "d").unwrap_err();
        assert_eq!(
            p.to_string(),
            "d: is a directory, not a regular file; not read"
        );
    }
}
