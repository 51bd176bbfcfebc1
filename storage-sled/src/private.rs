//! The data directory is private (CONTRACT.md "Deployment"): it holds
//! every OAuth 1 client and token secret as they are (DESIGN.md rule 4), so
//! it is created mode 0700 and every file in it made 0600, whatever the
//! umask. An existing directory with looser modes is tightened on open, and
//! each tightening is logged, so an operator learns the files were exposed.
//!
//! sled creates its files with the process umask. Tightening after open
//! covers the files it made then; a file it makes later (a snapshot) sits
//! in the 0700 directory, and the `credlog` binary sets umask 077 so those
//! are 0600 too.

use std::path::Path;

/// The directory's mode.
pub const DIRECTORY_MODE: u32 = 0o700;
/// Every file's mode.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` (and any missing parent) as a private directory, or
/// tightens it and everything in it when it exists.
pub fn prepare(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        create(path)?;
    }
    tighten(path)
}

#[cfg(unix)]
fn create(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIRECTORY_MODE)
        .create(path)
}

#[cfg(not(unix))]
fn create(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

/// Takes from `path` every permission beyond 0700 and from every file
/// under it every one beyond 0600 (directories under it: 0700), logging
/// each change. Symbolic links are left alone: their target
/// is not the store's to change.
#[cfg(unix)]
pub fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::symlink_metadata(path)?;
    let wanted = if metadata.is_dir() {
        DIRECTORY_MODE
    } else if metadata.is_file() {
        FILE_MODE
    } else {
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & !wanted != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
        tracing::warn!(
            path = %path.display(),
            from = format!("{mode:o}"),
            to = format!("{wanted:o}"),
            "tightened the mode of a file in the data directory"
        );
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            tighten(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn tighten(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_directory_is_private_and_an_old_one_is_tightened() {
        let parent = tempfile::tempdir().unwrap();
        let fresh = parent.path().join("a/b");
        prepare(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let old = parent.path().join("old");
        std::fs::create_dir_all(old.join("blobs")).unwrap();
        std::fs::write(old.join("db"), b"x").unwrap();
        std::fs::write(old.join("blobs/1"), b"x").unwrap();
        for (path, loose) in [
            (old.clone(), 0o755),
            (old.join("blobs"), 0o775),
            (old.join("db"), 0o644),
            (old.join("blobs/1"), 0o666),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
        }
        prepare(&old).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("blobs")), 0o700);
        assert_eq!(mode(&old.join("db")), 0o600);
        assert_eq!(mode(&old.join("blobs/1")), 0o600);
    }
}
