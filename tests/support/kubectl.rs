//! The one way the tests find kubectl, as `scripts/test-deps` does:
//! `$KUBECTL` if set, else `kubectl` on PATH. A missing kubectl fails the
//! test with how to fix it.
#![allow(dead_code)]

use std::path::PathBuf;

/// The kubectl binary to run.
pub fn kubectl() -> PathBuf {
    if let Some(bin) = std::env::var_os("KUBECTL") {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "KUBECTL={} is not a file (install kubectl or point KUBECTL at it)",
            bin.display()
        );
        return bin;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("kubectl"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("kubectl is required for this test: install it, or set KUBECTL to its path")
        })
}
