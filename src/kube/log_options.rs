//! Which pods' logs to follow, and how ([`super::logs`]).

use std::collections::BTreeMap;
use std::time::Duration;

/// Which pods to follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogSelector {
    /// Every pod in the watched namespace(s).
    #[default]
    All,
    /// Pods whose labels include all of these.
    Labels(BTreeMap<String, String>),
    /// The pods of one deployment (through their ReplicaSet).
    Deployment { namespace: String, name: String },
}

/// How to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    pub selector: LogSelector,
    /// Lines of history to fetch from pods already running when following
    /// starts. Pods that appear later are read from their beginning.
    pub tail_lines: Option<i64>,
    /// Follow at most this many containers (pods sorted by namespace and
    /// name); a marker line says when some are left out.
    pub max_streams: usize,
    /// Only lines newer than this, from the pods there when following starts.
    pub since: Option<Duration>,
    /// Keep following; `false` reads what the pods of the first list have
    /// logged so far, and the source then [ends](LogSource::ended).
    pub follow: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            selector: LogSelector::All,
            tail_lines: Some(100),
            max_streams: 64,
            since: None,
            follow: true,
        }
    }
}
