//! What a console session is connected to.

use std::fmt;

/// What a console session is connected to, typed: the header shows its
/// label, and the context/namespace switcher starts from its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The simulated estate behind the source traits.
    Sim { scenario: String },
    /// The embedded demo: a scenario whose cluster is reached through the
    /// Kubernetes API at `context`.
    Demo {
        scenario: String,
        context: String,
        namespace: Option<String>,
    },
    /// A Kubernetes context; `namespace` None watches every namespace.
    Kube {
        context: String,
        namespace: Option<String>,
    },
    /// An AWS profile in a region.
    Aws { profile: String, region: String },
    /// Databases only (`opsdeck db`).
    Databases { name: String },
}

impl Target {
    /// `sim:db-connections`, `kube:prod-eks`, `aws:default@eu-west-1`.
    pub fn label(&self) -> String {
        match self {
            Target::Sim { scenario } => format!("sim:{scenario}"),
            Target::Demo {
                scenario, context, ..
            } => format!("demo:{scenario} kube:{context}"),
            Target::Kube { context, .. } => format!("kube:{context}"),
            Target::Aws { profile, region } => format!("aws:{profile}@{region}"),
            Target::Databases { name } => name.clone(),
        }
    }

    /// What the context switcher switches: a Kubernetes context or an AWS profile.
    pub fn context(&self) -> Option<&str> {
        match self {
            Target::Demo { context, .. } | Target::Kube { context, .. } => Some(context),
            Target::Aws { profile, .. } => Some(profile),
            Target::Sim { .. } | Target::Databases { .. } => None,
        }
    }

    /// What the namespace prompt changes: a namespace (None = all) or an AWS region.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Target::Demo { namespace, .. } | Target::Kube { namespace, .. } => namespace.as_deref(),
            Target::Aws { region, .. } => Some(region),
            Target::Sim { .. } | Target::Databases { .. } => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}
