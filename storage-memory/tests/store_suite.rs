//! The store suite on the memory backend.

use std::sync::Arc;

use credlog_storage_memory::MemoryStore;

credlog_conformance::store_suite!((Arc::new(MemoryStore::new()), ()));
