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
    /// The pinned object's uid or ARN when the backend gives one: an object
    /// recreated under the same name (a StatefulSet's pod) is another one.
    pub pinned_uid: Option<String>,
    /// The pinned object is no longer delivered (deleted, replaced): the
    /// pane says so and actions on it are refused until another row is chosen.
    pub gone: Option<WorkloadRef>,
    /// Groups (deployments, ECS services) folded to one row.
    pub collapsed: std::collections::BTreeSet<WorkloadRef>,
    /// Pods and tasks marked for one action on all of them.
    pub marked: std::collections::BTreeSet<WorkloadRef>,
}

/// One displayed row of the Workloads tree.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub row: &'a Workload,
    /// A pod or task shown under its deployment or service.
    pub child: bool,
    /// For a group row: how many members match (shown unless collapsed).
    pub members: usize,
    pub collapsed: bool,
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
            pinned_uid: None,
            gone: None,
            collapsed: std::collections::BTreeSet::new(),
            marked: std::collections::BTreeSet::new(),
        }
    }
}

impl WorkloadsView {
    /// Rows after filter and sort, as displayed.
    pub fn visible(&self) -> Vec<&Workload> {
        self.shown().into_iter().map(|s| s.row).collect()
    }

    /// Rows as displayed, as a tree: each deployment or ECS service with
    /// its pods or tasks under it (unless collapsed), then rows that belong
    /// to no listed owner. Groups are ordered by their worst member under
    /// the health sort, and members within their group by the same key. A
    /// filter shows a group whose row matches with all its members, and a
    /// group with only matching members shown.
    pub fn shown(&self) -> Vec<Shown<'_>> {
        // Every word of the filter must appear in `kind scope/name status`.
        let terms: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let matches = |w: &Workload| {
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
        };
        let kind_ok = |k: WorkloadKind| self.kinds.is_empty() || self.kinds.contains(&k);
        // Parents in this view: deployments and services of a shown kind.
        let parent_of = |w: &Workload| -> Option<WorkloadRef> {
            let id = w.owner_ref()?;
            (kind_ok(id.kind) && self.rows.iter().any(|p| p.id == id)).then_some(id)
        };
        let mut groups: Vec<(&Workload, Vec<&Workload>)> = Vec::new();
        let mut index: std::collections::HashMap<&WorkloadRef, usize> =
            std::collections::HashMap::new();
        for w in self.rows.iter().filter(|w| kind_ok(w.id.kind)) {
            if parent_of(w).is_none() {
                index.insert(&w.id, groups.len());
                groups.push((w, Vec::new()));
            }
        }
        for w in self.rows.iter().filter(|w| kind_ok(w.id.kind)) {
            if let Some(p) = parent_of(w) {
                if let Some(&i) = index.get(&p) {
                    groups[i].1.push(w);
                }
            }
        }
        let cmp = |a: &Workload, b: &Workload| {
            let ord = match self.sort {
                SortKey::Health => b.health.cmp(&a.health),
                SortKey::Name => std::cmp::Ordering::Equal,
                SortKey::Restarts => b.restarts.cmp(&a.restarts),
                SortKey::Age => b.created.cmp(&a.created),
            };
            let ord = ord
                .then_with(|| a.id.kind.cmp(&b.id.kind))
                .then_with(|| a.id.scope.cmp(&b.id.scope))
                .then_with(|| a.id.name.cmp(&b.id.name));
            if self.reverse { ord.reverse() } else { ord }
        };
        // A group sorts by the worst of its members under the health sort.
        let worst = |(p, kids): &(&Workload, Vec<&Workload>)| {
            kids.iter().map(|k| k.health).fold(p.health, std::cmp::max)
        };
        groups.retain_mut(|(parent, kids)| {
            if matches(parent) {
                true
            } else {
                kids.retain(|k| matches(k));
                !kids.is_empty()
            }
        });
        // Members that are on their way out (stopped tasks, terminating
        // pods) come after the live ones, whatever the sort.
        for (_, kids) in &mut groups {
            kids.sort_by(|a, b| a.is_ending().cmp(&b.is_ending()).then_with(|| cmp(a, b)));
        }
        groups.sort_by(|a, b| {
            let by_health = if self.sort == SortKey::Health {
                let o = worst(b).cmp(&worst(a));
                if self.reverse { o.reverse() } else { o }
            } else {
                std::cmp::Ordering::Equal
            };
            by_health.then_with(|| cmp(a.0, b.0))
        });
        let mut out = Vec::new();
        for (parent, kids) in groups {
            let collapsed = self.collapsed.contains(&parent.id);
            out.push(Shown {
                row: parent,
                child: false,
                members: kids.len(),
                collapsed,
            });
            if !collapsed {
                out.extend(kids.into_iter().map(|k| Shown {
                    row: k,
                    child: true,
                    members: 0,
                    collapsed: false,
                }));
            }
        }
        out
    }

    /// The collapsed group a pod or task is folded into, if any.
    fn folded_into(&self, id: &WorkloadRef) -> Option<WorkloadRef> {
        let group = self.rows.iter().find(|w| &w.id == id)?.owner_ref()?;
        self.collapsed.contains(&group).then_some(group)
    }

    /// Fold or unfold the selected row's group (a member folds its parent,
    /// and the cursor moves onto it).
    pub fn toggle_collapse(&mut self) {
        let shown = self.shown();
        let Some(cur) = shown.get(self.selected) else {
            return;
        };
        let group = if cur.child {
            shown[..self.selected]
                .iter()
                .rev()
                .find(|s| !s.child)
                .map(|s| s.row.id.clone())
        } else if cur.members > 0 || cur.collapsed {
            Some(cur.row.id.clone())
        } else {
            None
        };
        let Some(group) = group else {
            return;
        };
        if !self.collapsed.remove(&group) {
            self.collapsed.insert(group.clone());
        }
        let at = self
            .shown()
            .iter()
            .position(|s| s.row.id == group)
            .unwrap_or(0);
        self.select(at);
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
        self.pinned_uid = visible.get(i).and_then(|w| w.uid.clone());
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
                // The same name, but another object: the chosen one is gone.
                Some(i)
                    if self.gone.as_ref() == Some(id)
                        || matches!((&self.pinned_uid, &visible[i].uid), (Some(a), Some(b)) if a != b) =>
                {
                    (i, Some(id.clone()), Some(id.clone()))
                }
                Some(i) => (i, Some(id.clone()), None),
                // Folded into its group: the cursor goes to the group.
                None if self.rows.iter().any(|w| &w.id == id) => {
                    match self
                        .folded_into(id)
                        .and_then(|g| visible.iter().position(|w| w.id == g).map(|i| (i, g)))
                    {
                        Some((i, g)) => (i, Some(g), None),
                        None => (0, at(0), None),
                    }
                }
                None => (self.selected.min(last), Some(id.clone()), Some(id.clone())),
            },
        };
        let uid = if gone.is_none() {
            pinned
                .as_ref()
                .and_then(|p| visible.iter().find(|w| &w.id == p))
                .and_then(|w| w.uid.clone())
        } else {
            self.pinned_uid.clone()
        };
        drop(visible);
        self.pinned_uid = uid;
        self.selected = selected;
        self.pinned = pinned;
        self.gone = gone;
        let rows = &self.rows;
        self.marked.retain(|m| rows.iter().any(|w| &w.id == m));
    }

    /// Mark or unmark the selected pod or task.
    pub fn toggle_mark(&mut self) -> Result<(), String> {
        let Some(row) = self.selected_row() else {
            return Err("nothing selected to mark".into());
        };
        if !matches!(row.id.kind, WorkloadKind::Pod | WorkloadKind::EcsTask) {
            return Err(format!(
                "only pods and ECS tasks can be marked, not a {}",
                row.id.kind.noun()
            ));
        }
        let id = row.id.clone();
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
        Ok(())
    }
}
