//! The deployment controller: the ReplicaSet of the current template, a
//! rolling update within maxSurge and maxUnavailable, the status.

use std::time::SystemTime;

use crate::sim::rng::Rng;

use super::events::EventText;
use super::objects::{Deployment, DeploymentStatus, REVISION_ANNOTATION};
use super::state::K8sState;

impl K8sState {
    /// The deployment controller: pick or create the ReplicaSet for the
    /// current template, then scale new and old ReplicaSets within
    /// maxSurge/maxUnavailable.
    pub fn reconcile_deployments(&mut self, rng: &mut Rng, now: SystemTime) {
        for di in 0..self.deployments.len() {
            let d = self.deployments[di].clone();
            let Some(new_idx) = self.current_replica_set(rng, &d, now) else {
                continue;
            };
            let new_rev = self.replica_sets[new_idx].revision();
            let owned = self.owned_by(&d.meta.uid);
            let changes = self.rollout_steps(&d, &owned, new_idx);
            self.scale_replica_sets(di, changes, now);
            self.update_status(di, &d, &owned, new_idx, new_rev);
        }
    }

    /// Indices of the ReplicaSets a deployment (by uid) owns.
    fn owned_by(&self, uid: &str) -> Vec<usize> {
        (0..self.replica_sets.len())
            .filter(|&i| {
                self.replica_sets[i]
                    .meta
                    .owner
                    .as_ref()
                    .is_some_and(|o| o.uid == uid)
            })
            .collect()
    }

    /// Ready pods of the ReplicaSet at `i`.
    fn ready_of(&self, i: usize) -> u32 {
        self.pods_of(&self.replica_sets[i].meta.uid)
            .filter(|p| p.ready())
            .count() as u32
    }

    /// The index of the ReplicaSet that runs the deployment's template: an
    /// existing one (an older one becomes the newest revision, as after
    /// `kubectl rollout undo`) or a new one.
    fn current_replica_set(
        &mut self,
        rng: &mut Rng,
        d: &Deployment,
        now: SystemTime,
    ) -> Option<usize> {
        let hash = d.template.hash();
        let owned = self.owned_by(&d.meta.uid);
        let max_rev = owned
            .iter()
            .map(|&i| self.replica_sets[i].revision())
            .max()
            .unwrap_or(0);
        match owned
            .iter()
            .copied()
            .find(|&i| self.replica_sets[i].template_hash() == hash)
        {
            Some(i) => {
                if self.replica_sets[i].revision() < max_rev {
                    let rv = self.next_rv();
                    let rs = &mut self.replica_sets[i];
                    rs.meta
                        .annotations
                        .insert(REVISION_ANNOTATION.into(), (max_rev + 1).to_string());
                    rs.meta.resource_version = rv;
                }
                Some(i)
            }
            None => {
                self.add_replica_set(rng, &d.meta.name, &d.template, max_rev + 1, 0, now)?;
                Some(self.replica_sets.len() - 1)
            }
        }
    }

    /// This step of the rollout: (ReplicaSet index, replicas) to set, in
    /// order (a later entry for the same index wins).
    fn rollout_steps(&self, d: &Deployment, owned: &[usize], new_idx: usize) -> Vec<(usize, u32)> {
        let old: Vec<usize> = owned
            .iter()
            .copied()
            .filter(|&i| i != new_idx && self.replica_sets[i].replicas > 0)
            .collect();
        let mut changes: Vec<(usize, u32)> = Vec::new();
        if old.is_empty() {
            if self.replica_sets[new_idx].replicas != d.replicas {
                changes.push((new_idx, d.replicas));
            }
            return changes;
        }
        let total: u32 = owned.iter().map(|&i| self.replica_sets[i].replicas).sum();
        // Scale up the new ReplicaSet within maxSurge.
        let new_replicas = self.replica_sets[new_idx].replicas;
        let max_total = d.replicas + d.max_surge();
        if new_replicas < d.replicas && total < max_total {
            changes.push((
                new_idx,
                (new_replicas + (max_total - total)).min(d.replicas),
            ));
        } else if new_replicas > d.replicas {
            changes.push((new_idx, d.replicas));
        }
        self.scale_down_old(d, owned, &old, new_idx, total, &mut changes);
        changes
    }

    /// Scale down old ReplicaSets while keeping minAvailable ready: first
    /// the replicas that are not ready at all (cleanupUnhealthyReplicas),
    /// then ready ones, oldest revision first.
    fn scale_down_old(
        &self,
        d: &Deployment,
        owned: &[usize],
        old: &[usize],
        new_idx: usize,
        total: u32,
        changes: &mut Vec<(usize, u32)>,
    ) {
        let new_ready = self.ready_of(new_idx);
        let new_unavailable = self.replica_sets[new_idx]
            .replicas
            .saturating_sub(new_ready);
        let min_available = d.replicas.saturating_sub(d.max_unavailable());
        let mut budget = total
            .saturating_sub(min_available)
            .saturating_sub(new_unavailable) as i64;
        let mut old_sorted = old.to_vec();
        old_sorted.sort_by_key(|&i| self.replica_sets[i].revision());
        for &i in &old_sorted {
            if budget <= 0 {
                break;
            }
            let have = self.replica_sets[i].replicas;
            let unhealthy = have.saturating_sub(self.ready_of(i));
            let cut = (unhealthy as i64).min(budget) as u32;
            if cut > 0 {
                changes.push((i, have - cut));
                budget -= i64::from(cut);
            }
        }
        let ready_total: u32 = owned.iter().map(|&i| self.ready_of(i)).sum();
        let mut can_remove = ready_total.saturating_sub(min_available) as i64;
        can_remove = can_remove.min(budget.max(0));
        for &i in &old_sorted {
            if can_remove <= 0 {
                break;
            }
            let have = changes
                .iter()
                .rev()
                .find(|(j, _)| *j == i)
                .map_or(self.replica_sets[i].replicas, |c| c.1);
            let cut = (have as i64).min(can_remove) as u32;
            if cut > 0 {
                changes.push((i, have - cut));
                can_remove -= i64::from(cut);
            }
        }
    }

    /// Set the replicas of ReplicaSets, with a ScalingReplicaSet event on
    /// the deployment at `di` for each one that changes.
    fn scale_replica_sets(&mut self, di: usize, changes: Vec<(usize, u32)>, now: SystemTime) {
        for (i, n) in changes {
            let was = self.replica_sets[i].replicas;
            if was == n {
                continue;
            }
            let rv = self.next_rv();
            let rs = &mut self.replica_sets[i];
            rs.replicas = n;
            rs.meta.resource_version = rv;
            let rs_name = rs.meta.name.clone();
            let dir = if n > was { "up" } else { "down" };
            let involved = self.deployments[di].meta.involved("Deployment", "apps/v1");
            self.emit_event(
                involved,
                EventText::normal(
                    "ScalingReplicaSet",
                    "deployment-controller",
                    format!("Scaled {dir} replica set {rs_name} from {was} to {n}"),
                ),
                now,
            );
        }
    }

    /// Count the live pods of the deployment at `di` into its status, and
    /// note its revision; a new resourceVersion only when either changed.
    fn update_status(
        &mut self,
        di: usize,
        d: &Deployment,
        owned: &[usize],
        new_idx: usize,
        new_rev: u64,
    ) {
        let mut status = DeploymentStatus {
            observed_generation: d.meta.generation,
            ..Default::default()
        };
        for &i in owned {
            for p in self
                .pods_of(&self.replica_sets[i].meta.uid)
                .filter(|p| !p.terminating())
            {
                status.replicas += 1;
                if i == new_idx {
                    status.updated_replicas += 1;
                }
                if p.ready() {
                    status.ready_replicas += 1;
                    status.available_replicas += 1;
                }
            }
        }
        let rev_text = new_rev.to_string();
        let changed = self.deployments[di].status != status
            || self.deployments[di]
                .meta
                .annotations
                .get(REVISION_ANNOTATION)
                != Some(&rev_text);
        if changed {
            let rv = self.next_rv();
            let dep = &mut self.deployments[di];
            dep.status = status;
            dep.meta
                .annotations
                .insert(REVISION_ANNOTATION.into(), rev_text);
            dep.meta.resource_version = rv;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::sim::k8s::{MemoryModel, PodTemplate};

    fn template(image: &str) -> PodTemplate {
        PodTemplate {
            labels: [("app".to_string(), "api".to_string())].into(),
            annotations: BTreeMap::new(),
            container: "api".into(),
            image: image.into(),
            memory_limit_mib: 768,
            cpu_millis: 500,
            extra: None,
        }
    }

    #[test]
    fn rollout_replaces_pods_within_surge() {
        let mut rng = Rng::new(1);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut k = K8sState::new("shop");
        k.add_deployment(&mut rng, "api", 3, template("api:1"), 1, t0);
        k.add_replica_set(&mut rng, "api", &template("api:1"), 1, 3, t0);
        for _ in 0..3 {
            k.add_pod(&mut rng, 0, t0, true, t0);
        }
        k.deployments[0].template = template("api:2");
        let mut now = t0;
        let mut max_pods = 0;
        for _ in 0..120 {
            now += Duration::from_secs(1);
            k.reconcile_deployments(&mut rng, now);
            k.reconcile_replica_sets(&mut rng, now);
            k.run_kubelet(
                &mut rng,
                now,
                MemoryModel {
                    worker_demand_mib: 0.0,
                },
            );
            let live = k.pods.iter().filter(|p| !p.terminating()).count();
            max_pods = max_pods.max(live);
        }
        assert!(max_pods <= 4, "surge exceeded: {max_pods}");
        assert_eq!(k.deployments[0].revision(), 2);
        assert!(
            k.pods
                .iter()
                .all(|p| p.container.image == "api:2" && p.ready())
        );
        assert_eq!(k.pods.len(), 3);
        assert_eq!(k.deployments[0].status.ready_replicas, 3);
    }
}
