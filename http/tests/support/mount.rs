//! Small filesystems of a test's own, for the fault tests: a tmpfs of a
//! given size (to fill up) and an ext4 image on a loop device (whose files
//! can be made immutable). Mounting needs root, which the tests run as;
//! each is unmounted when dropped.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A filesystem mounted on a temporary directory.
pub struct Mounted {
    point: PathBuf,
    /// Holds the mount point and the image; removed after the unmount.
    _dir: tempfile::TempDir,
}

/// Runs `program args`, panicking with its output when it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed (the fault tests mount filesystems and need root): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

impl Mounted {
    /// A tmpfs of `bytes` bytes.
    pub fn tmpfs(bytes: u64) -> Mounted {
        let dir = tempfile::tempdir().unwrap();
        let point = dir.path().join("mnt");
        std::fs::create_dir(&point).unwrap();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes}"),
                "tmpfs",
                str(&point),
            ],
        );
        Mounted { point, _dir: dir }
    }

    /// An ext4 filesystem of `bytes` bytes in an image file, on a loop device.
    pub fn ext4(bytes: u64) -> Mounted {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("fs.img");
        File::create(&image).unwrap().set_len(bytes).unwrap();
        run("mkfs.ext4", &["-q", "-F", str(&image)]);
        let point = dir.path().join("mnt");
        std::fs::create_dir(&point).unwrap();
        run("mount", &["-o", "loop", str(&image), str(&point)]);
        Mounted { point, _dir: dir }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.point
    }

    /// Writes `name` until the filesystem is full (the write fails with
    /// ENOSPC), and answers how many bytes it took.
    pub fn fill(&self, name: &str) -> u64 {
        let mut file = File::create(self.point.join(name)).unwrap();
        let chunk = vec![0xa5u8; 1 << 20];
        let mut written = 0u64;
        loop {
            match file.write(&chunk) {
                Ok(0) => panic!("a write of nothing while filling"),
                Ok(n) => written += n as u64,
                Err(error) if error.kind() == ErrorKind::StorageFull => return written,
                Err(error) => panic!("filling the filesystem failed otherwise: {error}"),
            }
        }
    }

    /// Makes every file and directory under `path` immutable (`chattr +i`,
    /// which stops root too, and writes through descriptors already open)
    /// or writable again.
    pub fn set_immutable(path: &Path, immutable: bool) {
        let flag = if immutable { "+i" } else { "-i" };
        run("chattr", &["-R", flag, str(path)]);
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        // A process killed a moment ago may still hold files open.
        for _ in 0..50 {
            let unmounted = Command::new("umount")
                .arg(&self.point)
                .output()
                .map(|output| output.status.success())
                .unwrap_or(false);
            if unmounted {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("umount").arg("-l").arg(&self.point).status();
    }
}
