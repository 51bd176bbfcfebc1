//! credlog's warp adapter: endpoint filters, the resource protector, pages and the `credlog` binary.
//!
//! The crate holds its place in the workspace; its content lands with issue #4.
#![forbid(unsafe_code)]
