//! Writes the fuzz targets' seed corpora from the RFC vectors:
//! `cargo run -p credlog-conformance --example fuzz_seeds -- fuzz/seeds`.

use std::path::Path;
use std::{env, fs, io};

use credlog_conformance::vectors;
use credlog_core::rfc5849::encoding::form_encode;
use credlog_core::rfc5849::SignedRequest;

fn main() -> io::Result<()> {
    let root = env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/seeds".to_owned());
    let root = Path::new(&root);
    for target in ["header_parser", "form_parser", "base_string", "verify"] {
        fs::create_dir_all(root.join(target))?;
    }
    let write = |target: &str, index: usize, content: &str| {
        fs::write(root.join(target).join(format!("seed-{index}")), content)
    };
    for (i, vector) in vectors::all().iter().enumerate() {
        let request = vector.request();
        write("header_parser", i, vector.authorization)?;

        let query = vector.uri.split_once('?').map_or("", |(_, q)| q);
        write("form_parser", 2 * i, query)?;
        write("form_parser", 2 * i + 1, vector.form_body.unwrap_or(""))?;

        let signed = SignedRequest::parse(&request).expect("the vectors parse");
        let parameters = form_encode(
            signed
                .parameters()
                .parameters
                .iter()
                .map(|p| (p.name.as_ref(), p.value.as_ref())),
        );
        write(
            "base_string",
            i,
            &format!("{}\n{}\n{parameters}", vector.method, vector.uri),
        )?;

        let mut http = format!("{} {}\n", request.method, request.uri);
        for (name, value) in &request.headers {
            http.push_str(&format!("{name}: {value}\n"));
        }
        http.push('\n');
        http.push_str(vector.form_body.unwrap_or(""));
        write("verify", i, &http)?;
    }
    println!(
        "wrote the seeds of {} vectors under {}",
        vectors::all().len(),
        root.display()
    );
    Ok(())
}
