//! Connection options: a `postgres://` URL or a libpq `key=value` string,
//! with the standard `PG*` environment variables as defaults, parsed into a
//! tokio-postgres configuration plus the TLS settings tokio-postgres does not
//! know about (`sslmode=verify-ca|verify-full`, `sslrootcert`).
//!
//! The password never leaves this module in readable form: [`redacted`]
//! masks it in connection strings, [`Redactor::scrub`] masks it in any text
//! (error messages from the server or the TLS stack), and [`PgOptions`]'s
//! `Debug` shows only redacted text.
//!
//! The parts: [`options`] (the options and their resolution into a
//! tokio-postgres configuration), [`conninfo`] (parsing URLs and `key=value`
//! strings), [`sslmode`] (`sslmode` and `sslrootcert`) and [`redact`].

mod conninfo;
mod options;
mod redact;
mod sslmode;

pub use conninfo::parse_conninfo;
pub use options::{ENV_VARS, PgOptions, QUERY_TIMEOUT, resolve};
pub use redact::{Redactor, redacted};
pub use sslmode::{RootCerts, SslMode};
