//! Every current problem in one list: the sources that fail (newest first)
//! and the problems found in the configuration files. The status bar shows
//! how many and the newest; the problems view shows them all, in full.

use std::time::SystemTime;

use super::state::State;

/// One current problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemLine {
    /// When it began (a source's first failure in a row); None for a
    /// configuration problem, found at start.
    pub at: Option<SystemTime>,
    /// `database orders: unreachable: connection refused`.
    pub text: String,
    /// `failed 5 times; last answer 2m ago` (empty for configuration).
    pub detail: String,
}

impl State {
    /// Failing sources, the one that began failing last first, then the
    /// configuration problems in the order they were found.
    pub fn problem_lines(&self) -> Vec<ProblemLine> {
        let mut out: Vec<ProblemLine> = self
            .feeds
            .all()
            .iter()
            .filter_map(|s| {
                let error = s.error.as_ref()?;
                let last = match s.age(self.now) {
                    Some(a) => format!("last answer {} ago", crate::fmt::duration_short(a)),
                    None => "never answered".to_string(),
                };
                Some(ProblemLine {
                    at: s.failing_since,
                    text: format!("{} {}: {error}", s.feed.name(), s.source),
                    detail: format!(
                        "failed {} time{}; {last}",
                        s.failures,
                        if s.failures == 1 { "" } else { "s" }
                    ),
                })
            })
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.at));
        out.extend(self.problems.iter().map(|p| ProblemLine {
            at: None,
            text: p.to_string(),
            detail: String::new(),
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::Feed;
    use crate::domain::Target;
    use crate::keymap::Keymap;
    use crate::problem::Problem;

    #[test]
    fn newest_failure_first_then_configuration() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let target = Target::Sim {
            scenario: "t".into(),
        };
        let mut s = State::new(Keymap::shipped("default").unwrap(), target, t0);
        s.problems
            .push(Problem::new("config.toml", Some(3), None, "bad key"));
        s.feeds.ok(Feed::Database, "orders", t0);
        s.feeds.failed(
            Feed::Database,
            "orders",
            "timeout".into(),
            t0 + Duration::from_secs(5),
        );
        s.feeds.failed(
            Feed::Database,
            "billing",
            "refused".into(),
            t0 + Duration::from_secs(9),
        );
        s.feeds.failed(
            Feed::Database,
            "orders",
            "timeout".into(),
            t0 + Duration::from_secs(10),
        );
        s.now = t0 + Duration::from_secs(12);
        let lines = s.problem_lines();
        let texts: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.text.as_str(), l.detail.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("database billing: refused", "failed 1 time; never answered"),
                (
                    "database orders: timeout",
                    "failed 2 times; last answer 12s ago"
                ),
                ("config.toml:3: bad key", ""),
            ]
        );
    }
}
