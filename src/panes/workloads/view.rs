//! The Workloads pane's state: rows as delivered plus filter, sort and selection.

use crate::domain::{Workload, WorkloadKind, WorkloadRef};

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
    /// Only rows of these kinds (`:pods`, `:deploy`, ...); empty shows every kind.
    pub kinds: Vec<WorkloadKind>,
    pub sort: SortKey,
    pub reverse: bool,
    /// Index into [`WorkloadsView::visible`]: where the cursor is drawn.
    pub selected: usize,
    /// The object the cursor is on. Refreshes, sorting and filtering move
    /// the cursor to follow it, never the other way round.
    pub pinned: Option<WorkloadRef>,
    /// The pinned object is no longer delivered (deleted, replaced): the
    /// pane says so and actions on it are refused until another row is chosen.
    pub gone: Option<WorkloadRef>,
}

impl Default for WorkloadsView {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            filter: String::new(),
            kinds: Vec::new(),
            sort: SortKey::Health,
            reverse: false,
            selected: 0,
            pinned: None,
            gone: None,
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
            .filter(|w| self.kinds.is_empty() || self.kinds.contains(&w.id.kind))
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

    /// The selected row; None when nothing is, or the pinned object is gone.
    pub fn selected_row(&self) -> Option<&Workload> {
        if self.gone.is_some() {
            return None;
        }
        self.visible().get(self.selected).copied()
    }

    /// Put the cursor on the `i`th visible row and pin its object.
    pub fn select(&mut self, i: usize) {
        let visible = self.visible();
        let i = i.min(visible.len().saturating_sub(1));
        let id = visible.get(i).map(|w| w.id.clone());
        self.selected = i;
        self.pinned = id;
        self.gone = None;
    }

    /// After the rows, the filter or the sort changed: follow the pinned
    /// object (the one the user chose; until then the cursor keeps its row). One hidden by the filter gives way to the first row shown;
    /// one no longer delivered is marked gone.
    pub fn reselect(&mut self) {
        let visible = self.visible();
        let last = visible.len().saturating_sub(1);
        let at = |i: usize| visible.get(i).map(|w| w.id.clone());
        let (selected, pinned, gone) = match &self.pinned {
            // Nothing chosen yet: the cursor stays where it is.
            None => (self.selected.min(last), None, None),
            Some(id) => match visible.iter().position(|w| &w.id == id) {
                Some(i) => (i, Some(id.clone()), None),
                None if self.rows.iter().any(|w| &w.id == id) => (0, at(0), None),
                None => (self.selected.min(last), Some(id.clone()), Some(id.clone())),
            },
        };
        self.selected = selected;
        self.pinned = pinned;
        self.gone = gone;
    }
}
