//! credlog's credential store on sled: the event log tree plus projection trees.
//!
//! The crate holds its place in the workspace; its content lands with issue #3.
#![forbid(unsafe_code)]
