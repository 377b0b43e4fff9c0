//! What every handler shares: the estate, and the world's Kubernetes state
//! with its journal kept up to date.

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

use crate::sim::SimEstate;
use crate::sim::k8s::K8sState;
use crate::sim::rng::Rng;
use crate::sim::world::World;

/// What every handler shares.
pub(crate) struct Api {
    pub estate: SimEstate,
    pub cancel: CancellationToken,
    pub addr: SocketAddr,
}

impl Api {
    /// Run `f` on the world's Kubernetes state, with the journal up to date.
    pub fn k8s<T>(&self, f: impl FnOnce(&mut K8sState, &mut Rng, std::time::SystemTime) -> T) -> T {
        self.estate.with(|w: &mut World| {
            let (k, rng, now) = w.k8s_write();
            k.record_changes();
            let out = f(k, rng, now);
            k.record_changes();
            out
        })
    }
}

impl Api {
    /// Run `f` on the whole world, with the journal up to date.
    pub fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        self.estate.with(|w: &mut World| {
            w.k8s_write().0.record_changes();
            f(w)
        })
    }
}
