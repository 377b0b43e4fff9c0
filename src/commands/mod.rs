//! What each `opsdeck` command does; `main.rs` only parses the command line.

mod check;
mod console;
mod logs;
mod serve;
mod sessions;

pub use check::check_config;
pub use logs::{LogsArgs, logs};
pub use serve::sim_serve;
pub use sessions::{AwsFlags, aws, context_namespace, db, demo, kube};
