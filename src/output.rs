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

/// As [`replace_file`], but leaves `path` alone when it already is a file of ours holding
/// exactly `bytes`: re-rendering an unchanged plan then rewrites nothing, so file times stay
/// (for make, rsync, editors) and no disk is written. Gives whether it wrote.
pub fn replace_file_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if already_holds(path, bytes) {
        return Ok(false);
    }
    replace_file(path, bytes).map(|()| true)
}

/// Whether `path` is a regular file (not a link: it is opened with `O_NOFOLLOW`), owned by
/// this user, writable by nobody else, with one name, holding exactly `bytes`. A file anyone
/// else could change, or reach through another name, is replaced as usual, so what stays is
/// as much ours as what [`replace_file`] would write.
fn already_holds(path: &Path, bytes: &[u8]) -> bool {
    #[cfg(unix)]
    {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        let mut options = OpenOptions::new();
        let Ok(mut file) = no_follow(options.read(true)).open(path) else {
            return false;
        };
        let Ok(meta) = file.metadata() else {
            return false;
        };
        // SAFETY: geteuid has no preconditions and cannot fail.
        let ours = meta.uid() == unsafe { libc::geteuid() };
        let private = meta.mode() & 0o022 == 0;
        if !(meta.is_file() && ours && private && meta.nlink() == 1)
            || meta.len() != bytes.len() as u64
        {
            return false;
        }
        let mut found = Vec::with_capacity(bytes.len() + 1);
        file.read_to_end(&mut found).is_ok() && found == bytes
    }
    #[cfg(not(unix))]
    {
        let _ = (path, bytes);
        false
    }
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

    #[cfg(unix)]
    #[test]
    fn an_identical_file_of_ours_is_left_alone_and_anything_else_is_replaced() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        assert!(
            replace_file_if_changed(&path, b"one").unwrap(),
            "a new file is written"
        );
        let inode = path.metadata().unwrap().ino();
        assert!(
            !replace_file_if_changed(&path, b"one").unwrap(),
            "the same text stays"
        );
        assert_eq!(path.metadata().unwrap().ino(), inode);
        assert!(
            replace_file_if_changed(&path, b"two").unwrap(),
            "other text is written"
        );
        assert!(
            replace_file_if_changed(&path, b"twotwo").unwrap(),
            "so is a longer one"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"twotwo");

        // Writable by others: whatever it holds now, it could hold something else later.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(replace_file_if_changed(&path, b"twotwo").unwrap());
        // A second name for it: a change through that name would change the output.
        std::fs::hard_link(&path, dir.path().join("other")).unwrap();
        assert!(replace_file_if_changed(&path, b"twotwo").unwrap());
        assert_eq!(path.metadata().unwrap().nlink(), 1);

        // A link to a file with the very text: the link is replaced, its target untouched.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "same").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        assert!(replace_file_if_changed(&link, b"same").unwrap());
        assert!(!link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"same");
    }
}
