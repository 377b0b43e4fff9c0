//! Events about the objects, recorded as the event recorder does: a
//! repeat only bumps the count of the last one.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::sim::rng::fnv1a;

use super::journal::Object;
use super::objects::{Event, InvolvedObject, ObjectMeta};
use super::state::K8sState;

/// Events kept (the oldest are deleted first, as the event TTL would).
pub const EVENT_CAPACITY: usize = 1000;

/// A uuid-shaped id derived from a string (no randomness, so recording
/// events never disturbs the simulation's random stream).
fn derived_uid(seed: &str) -> String {
    let a = fnv1a(seed);
    let b = fnv1a(&format!("{seed}#"));
    let h = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The reason, message and source of an event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventText {
    pub reason: &'static str,
    pub message: String,
    pub warning: bool,
    pub component: &'static str,
    pub host: Option<String>,
}

impl EventText {
    pub fn normal(reason: &'static str, component: &'static str, message: String) -> Self {
        Self {
            reason,
            message,
            warning: false,
            component,
            host: None,
        }
    }

    pub fn warning(reason: &'static str, component: &'static str, message: String) -> Self {
        Self {
            warning: true,
            ..Self::normal(reason, component, message)
        }
    }

    pub fn on(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }
}

impl K8sState {
    /// Record an event about an object; a repeat of the last event with the
    /// same object, reason and message only bumps its count.
    pub fn emit_event(&mut self, involved: InvolvedObject, what: EventText, now: SystemTime) {
        let rv = self.next_rv();
        if let Some(e) = self.events.iter_mut().rev().find(|e| {
            e.involved.uid == involved.uid && e.reason == what.reason && e.message == what.message
        }) {
            e.count += 1;
            e.last = now;
            e.meta.resource_version = rv;
            return;
        }
        let name = format!(
            "{}.{:016x}",
            involved.name,
            fnv1a(&format!("{}/{rv}", involved.uid))
        );
        let meta = ObjectMeta {
            uid: derived_uid(&format!("event/{name}")),
            name,
            namespace: involved.namespace.clone(),
            resource_version: rv,
            generation: 0,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            owner: None,
            creation: now,
            deletion: None,
        };
        self.events.push(Event {
            meta,
            involved,
            reason: what.reason.into(),
            message: what.message,
            warning: what.warning,
            component: what.component.into(),
            host: what.host,
            first: now,
            last: now,
            count: 1,
        });
        if self.events.len() > EVENT_CAPACITY {
            let gone = self.events.remove(0);
            self.note_removed(Object::Event(Box::new(gone)));
        }
    }
}
