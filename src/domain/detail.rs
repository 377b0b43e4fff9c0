//! A detail view's content: what `describe` shows of one object, as pure
//! data (headed sections of key/value rows and text), plus its YAML when
//! the backend has one. Backends fill it; the UI sanitises and wraps it.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::workload::{WorkloadKind, WorkloadRef};

/// What a detail view shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DetailTarget {
    /// A pod, deployment, ECS service or ECS task.
    Workload(WorkloadRef),
    /// A CloudWatch alarm, by name.
    Alarm { name: String },
    /// A database session, by pid and backend start (the same pid may be reused).
    Session {
        database: String,
        pid: i32,
        backend_start: SystemTime,
    },
}

impl DetailTarget {
    /// The short form for breadcrumbs: `deploy shop/api`, `pod api-7d9f-x2k4q`.
    pub fn crumb(&self) -> String {
        match self {
            DetailTarget::Workload(w) => match w.kind {
                WorkloadKind::Deployment | WorkloadKind::EcsService => {
                    format!("{} {}/{}", w.kind.short(), w.scope, w.name)
                }
                WorkloadKind::Pod | WorkloadKind::EcsTask => {
                    format!("{} {}", w.kind.short(), w.name)
                }
            },
            DetailTarget::Alarm { name } => format!("alarm {name}"),
            DetailTarget::Session { database, pid, .. } => format!("session {database}/{pid}"),
        }
    }
}

impl fmt::Display for DetailTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetailTarget::Workload(w) => write!(f, "{w}"),
            DetailTarget::Alarm { name } => write!(f, "alarm {name}"),
            DetailTarget::Session { database, pid, .. } => {
                write!(f, "session {pid} of {database}")
            }
        }
    }
}

/// How a row reads: plain, or marked good/bad (a failed condition, an exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tone {
    #[default]
    Plain,
    Ok,
    Warn,
    Bad,
}

/// One line of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailRow {
    /// `key: value`, the value wrapped under itself.
    Field {
        key: String,
        value: String,
        tone: Tone,
    },
    /// Free text (an event, a query), wrapped to the width.
    Text { text: String, tone: Tone },
}

impl DetailRow {
    pub fn field(key: impl Into<String>, value: impl Into<String>) -> Self {
        DetailRow::Field {
            key: key.into(),
            value: value.into(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(key: impl Into<String>, value: impl Into<String>, tone: Tone) -> Self {
        DetailRow::Field {
            key: key.into(),
            value: value.into(),
            tone,
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        DetailRow::Text {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    pub fn text_toned(text: impl Into<String>, tone: Tone) -> Self {
        DetailRow::Text {
            text: text.into(),
            tone,
        }
    }
}

/// A headed group of rows (`Containers`, `Events`, `Rollout history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailSection {
    pub heading: String,
    pub rows: Vec<DetailRow>,
}

impl DetailSection {
    pub fn new(heading: impl Into<String>) -> Self {
        Self {
            heading: heading.into(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: DetailRow) {
        self.rows.push(row);
    }

    pub fn field(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.rows.push(DetailRow::field(key, value));
    }
}

/// Everything a detail view shows of one object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Detail {
    pub sections: Vec<DetailSection>,
    /// The object as YAML (server-managed noise such as `managedFields` removed).
    pub yaml: Option<String>,
    /// Related objects that can be opened from here (a deployment's pods,
    /// a pod's deployment), in order.
    pub links: Vec<DetailTarget>,
}

impl Detail {
    /// Every line of the content as plain text (for search and copy).
    pub fn plain_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.sections {
            out.push(s.heading.clone());
            for r in &s.rows {
                out.push(match r {
                    DetailRow::Field { key, value, .. } => format!("{key}: {value}"),
                    DetailRow::Text { text, .. } => text.clone(),
                });
            }
        }
        out
    }
}
