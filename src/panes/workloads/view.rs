//! The Workloads pane's state: rows as delivered plus filter, sort and selection.

use crate::domain::Workload;

/// Sort column of the Workloads pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Worst health first.
    Health,
    Name,
    Restarts,
    Age,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Health => SortKey::Name,
            SortKey::Name => SortKey::Restarts,
            SortKey::Restarts => SortKey::Age,
            SortKey::Age => SortKey::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Name => "name",
            SortKey::Restarts => "restarts",
            SortKey::Age => "age",
        }
    }
}

/// The Workloads pane: rows as delivered plus filter, sort and selection.
#[derive(Debug, Clone)]
pub struct WorkloadsView {
    pub rows: Vec<Workload>,
    pub filter: String,
    pub sort: SortKey,
    pub reverse: bool,
    /// Index into [`WorkloadsView::visible`].
    pub selected: usize,
}

impl Default for WorkloadsView {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            filter: String::new(),
            sort: SortKey::Health,
            reverse: false,
            selected: 0,
        }
    }
}

impl WorkloadsView {
    /// Rows after filter and sort, as displayed.
    pub fn visible(&self) -> Vec<&Workload> {
        // Every word of the filter must appear in `kind scope/name status`.
        let terms: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut rows: Vec<&Workload> = self
            .rows
            .iter()
            .filter(|w| {
                terms.is_empty() || {
                    let hay = format!(
                        "{} {}/{} {}",
                        w.id.kind.noun(),
                        w.id.scope,
                        w.id.name,
                        w.status
                    )
                    .to_lowercase();
                    terms.iter().all(|t| hay.contains(t.as_str()))
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let ord = match self.sort {
                SortKey::Health => b.health.cmp(&a.health),
                SortKey::Name => std::cmp::Ordering::Equal,
                SortKey::Restarts => b.restarts.cmp(&a.restarts),
                SortKey::Age => b.created.cmp(&a.created),
            };
            ord.then_with(|| a.id.kind.cmp(&b.id.kind))
                .then_with(|| a.id.scope.cmp(&b.id.scope))
                .then_with(|| a.id.name.cmp(&b.id.name))
        });
        if self.reverse {
            rows.reverse();
        }
        rows
    }

    pub fn selected_row(&self) -> Option<&Workload> {
        self.visible().get(self.selected).copied()
    }
}
