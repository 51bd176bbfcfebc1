//! credlog's credential store held in memory, for tests and `serve --memory`.
//!
//! The crate holds its place in the workspace; its content lands with issue #3.
#![forbid(unsafe_code)]
