//! The layout DESIGN.md asks for ("The core decides"): the domain types sit
//! below both the store and the protocol modules, so neither `store` nor
//! `domain` names a protocol module in its code (doc comments may cite one).

use std::fs;
use std::path::{Path, PathBuf};

/// The modules of core that speak a protocol or a host's policy.
const PROTOCOL_MODULES: [&str; 14] = [
    "rfc5849", "rfc6749", "rfc6750", "rfc7009", "rfc7523", "rfc7591", "rfc7636", "rfc7662",
    "rfc8414", "rfc8628", "oidc", "consent", "manage", "throttle",
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found
}

/// Whether `code` holds `name` as a whole identifier.
fn names(code: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        !code[..at].ends_with(is_ident) && !code[at + name.len()..].starts_with(is_ident)
    })
}

/// The lines of `dir`'s code (comments left out) that name a protocol
/// module, in a path or a `use` (`crate::rfc6749::Scope`,
/// `crate::{rfc6749::Scope}`, `super::super::rfc6749`).
fn protocol_paths(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut found = Vec::new();
    for file in sources(&root) {
        let text = fs::read_to_string(&file).expect("a readable source file");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if PROTOCOL_MODULES.iter().any(|module| names(code, module)) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn the_store_names_no_protocol_module() {
    assert_eq!(protocol_paths("store"), Vec::<String>::new());
}

#[test]
fn the_domain_types_name_no_protocol_module() {
    assert_eq!(protocol_paths("domain"), Vec::<String>::new());
}
