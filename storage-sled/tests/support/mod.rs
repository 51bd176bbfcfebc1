//! What several of the sled tests need.
//! Each test crate uses only some of it.
#![allow(dead_code)]

use std::path::Path;

/// Copies the directory `from` (a closed store's, say) to `to`, files and
/// directories under it alike.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What `open` answers once the raw sled handle a test used has let go of
/// the directory: sled releases its lock from a background thread, a
/// little after the handle is dropped. Any answer but `Locked` is returned.
pub fn released<T>(
    open: impl Fn() -> Result<T, credlog_core::store::StoreError>,
) -> Result<T, credlog_core::store::StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match open() {
            Err(credlog_core::store::StoreError::Locked { .. })
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened => return opened,
        }
    }
}

/// The store in `path`, once a raw sled handle has let go of it.
pub fn open_released(
    path: &Path,
) -> Result<credlog_storage_sled::SledStore, credlog_core::store::StoreError> {
    released(|| credlog_storage_sled::SledStore::open(path))
}

/// [`open_released`], which must open.
pub fn reopen(path: &Path) -> credlog_storage_sled::SledStore {
    open_released(path).unwrap()
}
