//! What the Database pane does: cancel or terminate the selected session,
//! pinned by pid and backend start, and terminate every active query past
//! a typed threshold.

use crate::action::Action;
use crate::core::Effect;
use crate::core::InputPurpose;
use crate::core::State;
use crate::core::ops::{ask, flash, open_input, step};
use crate::domain::{Change, QueryRule, SessionTarget};

use super::view::{SessionKey, db_rows};

/// The session actions, once there are sessions.
pub fn offered(state: &State) -> Vec<Action> {
    if db_rows(&state.metrics.databases).is_empty() {
        Vec::new()
    } else {
        vec![
            Action::CancelQuery,
            Action::TerminateSession,
            Action::TerminateMatching,
        ]
    }
}

/// What `copy` takes: the selected session's query.
pub fn copy_text(state: &State) -> Option<String> {
    state
        .database
        .selected_session(&state.metrics.databases)
        .map(|(_, s)| s.query.clone())
        .filter(|q| !q.is_empty())
}

/// Handle `action` if it is this pane's.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::ToggleMark => {
            if let Err(e) = state.database.toggle_mark(&state.metrics.databases) {
                flash(state, e, true);
            }
            Some(Vec::new())
        }
        Action::TerminateSession if !state.database.marked.is_empty() => {
            Some(terminate_marked(state))
        }
        Action::CancelQuery | Action::TerminateSession => Some(session_change(state, action)),
        Action::TerminateMatching => {
            match state.metrics.databases.first().map(|d| d.name.clone()) {
                Some(database) => open_input(
                    state,
                    InputPurpose::TerminateOlderThan {
                        database: database.clone(),
                    },
                    &format!(
                        "terminate active queries on {database} running longer than (user=, application= optional)"
                    ),
                    "10m".into(),
                ),
                None => flash(state, "no database in this session", true),
            }
            Some(Vec::new())
        }
        _ => None,
    }
}

/// Move the selected session.
pub fn navigate(state: &mut State, _action: Action, delta: isize, _page: crate::core::ops::Page) {
    let n = db_rows(&state.metrics.databases).len();
    let i = step(state.database.selected, delta, n);
    state.database.select(&state.metrics.databases, i);
}

/// Cancel or terminate the selected database session, pinned by pid and backend start.
fn session_change(state: &mut State, action: Action) -> Vec<Effect> {
    let Some((database, s)) = state.database.selected_session(&state.metrics.databases) else {
        let why = match &state.database.gone {
            Some(k) => format!(
                "session {} on {} has ended; choose another row",
                k.pid, k.database
            ),
            None => "no database session selected".to_string(),
        };
        flash(state, why, true);
        return Vec::new();
    };
    if action == Action::CancelQuery && s.state != crate::domain::SessionState::Active {
        // The server would refuse too: as of the last snapshot there is no
        // query to cancel.
        let why = crate::domain::nothing_to_cancel(database, s.pid, s.state.label());
        flash(state, why, true);
        return Vec::new();
    }
    let database = database.to_string();
    let session = SessionTarget::of(s);
    let change = if action == Action::CancelQuery {
        Change::CancelQuery { database, session }
    } else {
        Change::TerminateSession { database, session }
    };
    ask(state, change)
}

/// The rule-based terminate for the typed threshold, from the current snapshot.
/// `10m`, optionally followed by `user=NAME` and `application=NAME` (or `app=`).
fn parse_rule(text: &str) -> Result<QueryRule, String> {
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("");
    let older_than = humantime::parse_duration(first)
        .map_err(|e| format!("\"{first}\" is not a duration like 10m: {e}"))?;
    let mut rule = QueryRule {
        older_than,
        user: None,
        application: None,
    };
    for w in words {
        match w.split_once('=') {
            Some(("user", v)) if !v.is_empty() => rule.user = Some(v.to_string()),
            Some(("application" | "app", v)) if !v.is_empty() => {
                rule.application = Some(v.to_string())
            }
            _ => {
                return Err(format!(
                    "\"{w}\": expected user=NAME or application=NAME after the duration"
                ));
            }
        }
    }
    Ok(rule)
}

/// The change terminating the sessions of `database` that the typed rule matches now.
pub fn terminate_matching(state: &State, database: &str, text: &str) -> Result<Change, String> {
    let rule = parse_rule(text)?;
    let db = state
        .metrics
        .databases
        .iter()
        .find(|d| d.name == database)
        .ok_or_else(|| format!("no snapshot of {database} yet"))?;
    let sessions = rule.targets(db);
    if sessions.is_empty() {
        return Err(format!("no active query on {database} is {rule}"));
    }
    Ok(Change::TerminateQueries {
        database: database.to_string(),
        rule,
        sessions,
    })
}

/// Terminate every marked session (they must be on one database), each
/// pinned by pid and backend start, with one confirmation listing them.
fn terminate_marked(state: &mut State) -> Vec<Effect> {
    let marked = state.database.marked.clone();
    if marked.iter().any(|k| k.database != marked[0].database) {
        flash(
            state,
            "the marked sessions are on more than one database",
            true,
        );
        return Vec::new();
    }
    let changes: Vec<Change> = db_rows(&state.metrics.databases)
        .into_iter()
        .filter(|(d, s)| marked.contains(&SessionKey::of(d, s)))
        .map(|(d, s)| Change::TerminateSession {
            database: d.to_string(),
            session: SessionTarget::of(s),
        })
        .collect();
    if changes.is_empty() {
        flash(state, "the marked sessions have ended", true);
        return Vec::new();
    }
    ask(state, Change::Batch { changes })
}
