//! Writing output files safely into directories other people may also write to.
//!
//! An output directory can be shared (a CI workspace, `/tmp`). Whoever can write into it can
//! plant a symlink where we are about to write; following it would let them make us overwrite
//! any file we can write. So a file is written to a temporary name created exclusively
//! (`O_CREAT|O_EXCL`, which never follows a symlink), then renamed over the target: rename
//! replaces a symlink itself, never the file it points to.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many temporary names to try before giving up (each attempt is a fresh name).
const ATTEMPTS: u32 = 64;

/// Replaces `path` with `bytes` atomically: readers see the old file or the new one, never half.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, mut file) = create_exclusive_sibling(path)?;
    let written = file.write_all(bytes);
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        // The temporary is ours (we created it exclusively), so removing it is safe.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Creates a new, empty temporary file next to `path`, under a name nobody else holds.
/// Makes `options` refuse to open a symbolic link as the last path component (ELOOP), so a link
/// planted where cloverlift keeps its own state (journal, lock) cannot point a write or a
/// truncation at another file.
pub fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

fn create_exclusive_sibling(path: &Path) -> io::Result<(PathBuf, std::fs::File)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        let tmp = dir.join(format!(".{base}.{pid}.{attempt}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o644);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            // Someone holds this name (or planted a link there): take the next one.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // Links at every temporary name we might pick, and at the target itself.
        let pid = std::process::id();
        for attempt in 0..3 {
            std::os::unix::fs::symlink(&victim, out.join(format!(".t.json.{pid}.{attempt}.tmp")))
                .unwrap();
        }
        std::os::unix::fs::symlink(&victim, out.join("t.json")).unwrap();
        replace_file(&out.join("t.json"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let target = out.join("t.json");
        assert!(!target.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(target).unwrap(), "new");
    }
}
