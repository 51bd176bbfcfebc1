//! `credlog check` shows a progress bar on a terminal and nothing extra
//! when its stderr is not one (issue 13, "Progress"): run through the
//! binary once with stderr on a pseudo-terminal made here, once on a pipe.
#![cfg(unix)]

mod support;

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Output, Stdio};

use support::process::credlog;

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};

/// A data directory holding `users` records, one user each.
fn data_with_users(dir: &Path, users: usize) {
    for n in 0..users {
        let added = credlog()
            .args(["user", "add", &format!("user{n}"), "--password", "pw"])
            .arg("--data")
            .arg(dir)
            .output()
            .unwrap();
        assert!(added.status.success(), "{added:?}");
    }
}

/// A pseudo-terminal 120 columns wide: its master, and its slave opened
/// as a file for a child's stderr.
fn pty() -> (File, OwnedFd) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let size = rustix::termios::Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&slave, size).unwrap();
    (File::from(master), OwnedFd::from(slave))
}

const EXPECTED: &str = "ok: 5 records replayed, projections match\n";

/// `credlog check --data DIR` with stderr on a new pseudo-terminal: its
/// output, and everything drawn on the terminal.
fn check_on_a_terminal(dir: &Path) -> (Output, String) {
    let (mut master, slave) = pty();
    let mut command = credlog();
    command
        .args(["check", "--data"])
        .arg(dir)
        .env("TERM", "xterm")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave));
    let child = command.spawn().unwrap();
    // The terminal's last writer must be the child, so its end reads as EOF.
    drop(command);
    let drawn = std::thread::spawn(move || {
        let mut drawn = Vec::new();
        let mut chunk = [0u8; 4096];
        // Linux answers EIO once every slave is closed.
        while let Ok(read @ 1..) = master.read(&mut chunk) {
            drawn.extend_from_slice(&chunk[..read]);
        }
        String::from_utf8_lossy(&drawn).into_owned()
    });
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    (output, drawn.join().unwrap())
}

/// `credlog check --data DIR` with stderr on a pipe.
fn check_on_a_pipe(dir: &Path) -> Output {
    let output = credlog()
        .args(["check", "--data"])
        .arg(dir)
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output
}

/// Makes the directory look as an older build left it: no grants trees
/// and no version of the projection rules, so opening it rebuilds them.
fn as_an_older_build_left_it(dir: &Path) {
    let db = sled::open(dir).unwrap();
    for tree in ["grants", "user_grants", "client_watermarks"] {
        db.drop_tree(tree).unwrap();
    }
    db.remove("credlog-projections").unwrap();
    db.flush().unwrap();
    // Nor a snapshot: those came later.
    let _ = std::fs::remove_dir_all(dir.join(credlog_storage_sled::SNAPSHOT_DIR));
}

#[test]
fn check_draws_a_progress_bar_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    data_with_users(dir.path(), 5);
    let (output, drawn) = check_on_a_terminal(dir.path());
    assert_eq!(String::from_utf8_lossy(&output.stdout), EXPECTED);
    assert!(
        drawn.contains("replaying ["),
        "no bar on the terminal: {drawn:?}"
    );
    assert!(drawn.contains("5/5 records"), "no final count: {drawn:?}");
    assert!(drawn.contains("/s"), "no rate: {drawn:?}");
    assert!(
        !drawn.contains("rebuilding"),
        "nothing to rebuild: {drawn:?}"
    );
}

#[test]
fn check_prints_nothing_extra_on_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    data_with_users(dir.path(), 5);
    let output = check_on_a_pipe(dir.path());
    assert_eq!(String::from_utf8_lossy(&output.stdout), EXPECTED);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "stderr is a pipe"
    );
}

#[test]
fn a_rebuild_on_open_draws_its_own_bar_on_a_terminal_and_nothing_on_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    data_with_users(dir.path(), 5);
    as_an_older_build_left_it(dir.path());
    let (output, drawn) = check_on_a_terminal(dir.path());
    assert_eq!(String::from_utf8_lossy(&output.stdout), EXPECTED);
    assert!(
        drawn.contains("rebuilding the projections ["),
        "no rebuild bar: {drawn:?}"
    );
    assert!(drawn.contains("5/5 records"), "{drawn:?}");

    as_an_older_build_left_it(dir.path());
    let output = check_on_a_pipe(dir.path());
    assert_eq!(String::from_utf8_lossy(&output.stdout), EXPECTED);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "stderr is a pipe"
    );
}
