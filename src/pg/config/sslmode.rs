//! `sslmode` and `sslrootcert`: whether and how the server's certificate is
//! checked.

use std::path::PathBuf;
use std::str::FromStr;

/// libpq's `sslmode`. `allow` is treated as `prefer` (TLS if the server
/// offers it); `prefer` and `require` encrypt without checking the
/// certificate (as libpq does, unless `sslrootcert` is given: then `require`
/// checks like `verify-ca`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    /// The certificate chain must lead to a trusted root; the host name is not checked.
    VerifyCa,
    /// Chain and host name are checked.
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "invalid sslmode {other:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }
}

/// Where trusted roots come from for `verify-ca` / `verify-full`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// The operating system's store (also what `sslrootcert=system` asks for).
    System,
    /// A PEM file (`sslrootcert=/path/global-bundle.pem`, e.g. the RDS bundle).
    File(PathBuf),
}
