//! Suites every credlog backend and server must pass, and what they share:
//! the checked RFC 5849 vectors ([`vectors`]) and a fixed, in-memory
//! [`CredentialSource`](credlog_core::rfc5849::CredentialSource)
//! ([`FixedCredentials`]) for driving the validator without a store, and
//! a store wrapper that fails on demand ([`FaultyStore`]).
//!
//! ```
//! use credlog_conformance::vectors;
//! use credlog_core::rfc5849::SignedRequest;
//!
//! let vector = &vectors::rfc5849_1_2()[0];
//! let request = vector.request();
//! let base_string = SignedRequest::parse(&request).unwrap().base_string().unwrap();
//! assert_eq!(Some(base_string.as_str()), vector.base_string);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod equivalence;
mod faulty_store;
mod fixed_credentials;
pub mod retention_suite;
pub mod store_suite;
pub mod throttle_suite;
pub mod vectors;

pub use faulty_store::{Fault, FaultyStore};
pub use fixed_credentials::FixedCredentials;

/// A 2048-bit RSA private key (PKCS#8 PEM) for RSA-SHA1 tests and benchmarks.
pub const TEST_RSA_PRIVATE_KEY_PEM: &str = include_str!("../testdata/rsa-2048-private.pem");

/// The public half of [`TEST_RSA_PRIVATE_KEY_PEM`] (SPKI PEM).
pub const TEST_RSA_PUBLIC_KEY_PEM: &str = include_str!("../testdata/rsa-2048-public.pem");
