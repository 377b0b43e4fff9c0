//! The change journal that watches read: object snapshots in
//! resourceVersion order, bounded, with the deletions the API server saw.

use std::collections::{BTreeSet, VecDeque};

use super::objects::{Deployment, Event, ObjectMeta, Pod, ReplicaSet};

/// Changes kept for watches; a watch from an older resourceVersion gets 410 Gone.
pub const JOURNAL_CAPACITY: usize = 5000;

/// What happened to an object (a watch event type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// A snapshot of one object, as it was at a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    Pod(Box<Pod>),
    Event(Box<Event>),
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Deployment(o) => &o.meta,
            Object::ReplicaSet(o) => &o.meta,
            Object::Pod(o) => &o.meta,
            Object::Event(o) => &o.meta,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Deployment(o) => &mut o.meta,
            Object::ReplicaSet(o) => &mut o.meta,
            Object::Pod(o) => &mut o.meta,
            Object::Event(o) => &mut o.meta,
        }
    }
}

/// One change: the object as it was at resourceVersion `rv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeType,
    pub object: Object,
}

/// A bounded log of object changes, recorded by `K8sState::record_changes`
/// by comparing resourceVersions: every change up to `recorded` is in it (or
/// was dropped, and then `floor` is at least its resourceVersion).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Journal {
    pub changes: VecDeque<Change>,
    /// A watch from a resourceVersion below this has lost changes (410 Gone).
    pub floor: u64,
    /// The global resourceVersion when changes were last recorded.
    pub recorded: u64,
    /// Uids of the objects the journal has seen added and not deleted.
    known: BTreeSet<String>,
    /// Objects removed since the last recording (their last state).
    removed: Vec<Object>,
}

impl Journal {
    /// Changes after `rv`, or `None` when some of them were dropped.
    pub fn since(&self, rv: u64) -> Option<impl Iterator<Item = &Change>> {
        if rv < self.floor {
            return None;
        }
        let start = self.changes.partition_point(|c| c.rv <= rv);
        Some(self.changes.iter().skip(start))
    }

    /// A journal that starts at resourceVersion `rv`, with the objects
    /// (by uid) that exist then: a watch must start at or after `rv`.
    pub fn baseline(known: BTreeSet<String>, rv: u64) -> Journal {
        Journal {
            changes: VecDeque::new(),
            floor: rv,
            recorded: rv,
            known,
            removed: Vec::new(),
        }
    }

    /// Note an object that has just been removed.
    pub fn note_removed(&mut self, object: Object) {
        self.removed.push(object);
    }

    /// Append `changed` (the objects whose resourceVersion passed
    /// `recorded`) and the removals noted since the last call. A deletion
    /// takes the next resourceVersion from `resource_version`, which ends
    /// as the new `recorded`.
    pub fn record(&mut self, mut changed: Vec<Object>, resource_version: &mut u64) {
        let removed = std::mem::take(&mut self.removed);
        if changed.is_empty() && removed.is_empty() {
            self.recorded = *resource_version;
            return;
        }
        changed.sort_by_key(|o| o.meta().resource_version);
        for object in changed {
            let uid = object.meta().uid.clone();
            let kind = if self.known.insert(uid) {
                ChangeType::Added
            } else {
                ChangeType::Modified
            };
            self.changes.push_back(Change {
                rv: object.meta().resource_version,
                kind,
                object,
            });
        }
        for mut object in removed {
            if !self.known.remove(&object.meta().uid) {
                continue;
            }
            *resource_version += 1;
            let rv = *resource_version;
            object.meta_mut().resource_version = rv;
            self.changes.push_back(Change {
                rv,
                kind: ChangeType::Deleted,
                object,
            });
        }
        while self.changes.len() > JOURNAL_CAPACITY {
            if let Some(c) = self.changes.pop_front() {
                self.floor = self.floor.max(c.rv);
            }
        }
        self.recorded = *resource_version;
    }
}
