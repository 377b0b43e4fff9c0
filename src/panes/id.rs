//! The name of a pane. Each pane module defines its constant
//! (`Pane::WORKLOADS`, `Pane::LOGS`, ...).

/// One pane, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pane(pub(super) &'static str);

impl Pane {
    /// The pane's name (`workloads`).
    pub fn name(self) -> &'static str {
        self.0
    }
}
