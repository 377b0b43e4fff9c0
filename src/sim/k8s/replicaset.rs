//! The ReplicaSet controller.

use std::time::SystemTime;

use crate::sim::rng::Rng;

use super::events::EventText;
use super::state::K8sState;

impl K8sState {
    /// The ReplicaSet controller: create missing pods, delete surplus ones
    /// (not ready first, then the newest).
    pub fn reconcile_replica_sets(&mut self, rng: &mut Rng, now: SystemTime) {
        for ri in 0..self.replica_sets.len() {
            let uid = self.replica_sets[ri].meta.uid.clone();
            let mut live: Vec<usize> = (0..self.pods.len())
                .filter(|&i| {
                    !self.pods[i].terminating()
                        && self.pods[i]
                            .meta
                            .owner
                            .as_ref()
                            .is_some_and(|o| o.uid == uid)
                })
                .collect();
            let want = self.replica_sets[ri].replicas as usize;
            if live.len() < want {
                for _ in live.len()..want {
                    self.add_pod(rng, ri, now, false, now);
                    if let Some(p) = self.pods.last() {
                        let (pod, node) = (p.meta.name.clone(), p.node.clone());
                        let pod_ref = p.meta.involved("Pod", "v1");
                        let rs_ref = self.replica_sets[ri].meta.involved("ReplicaSet", "apps/v1");
                        self.emit_event(
                            rs_ref,
                            EventText::normal(
                                "SuccessfulCreate",
                                "replicaset-controller",
                                format!("Created pod: {pod}"),
                            ),
                            now,
                        );
                        let ns = self.namespace.clone();
                        self.emit_event(
                            pod_ref,
                            EventText::normal(
                                "Scheduled",
                                "default-scheduler",
                                format!("Successfully assigned {ns}/{pod} to {node}"),
                            ),
                            now,
                        );
                    }
                }
            } else if live.len() > want {
                live.sort_by(|&a, &b| {
                    let (pa, pb) = (&self.pods[a], &self.pods[b]);
                    pa.ready()
                        .cmp(&pb.ready())
                        .then(pb.meta.creation.cmp(&pa.meta.creation))
                });
                for &i in live.iter().take(live.len() - want) {
                    self.delete_pod_at(i, now);
                    let pod = self.pods[i].meta.name.clone();
                    let rs_ref = self.replica_sets[ri].meta.involved("ReplicaSet", "apps/v1");
                    self.emit_event(
                        rs_ref,
                        EventText::normal(
                            "SuccessfulDelete",
                            "replicaset-controller",
                            format!("Deleted pod: {pod}"),
                        ),
                        now,
                    );
                }
            }
            let ready = self.pods_of(&uid).filter(|p| p.ready()).count() as u32;
            self.replica_sets[ri].status_ready = ready;
        }
    }
}
