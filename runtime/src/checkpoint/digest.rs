//! SHA-256 in lowercase hex: what a checkpoint records of each file and checks on load.

use sha2::{Digest, Sha256};

/// The digest of `parts` one after the other.
pub(crate) fn sha256_hex_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of(&[bytes])
}
