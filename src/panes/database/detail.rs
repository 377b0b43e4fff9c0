//! A database session's detail view, from the latest snapshot (no I/O):
//! the full query wrapped, state, wait event, durations, client, and the
//! blocking chain in both directions from `pg_blocking_pids`.

use std::collections::BTreeSet;

use crate::core::State;
use crate::domain::{
    DbSession, DbSnapshot, Detail, DetailRow, DetailSection, DetailTarget, SessionState, Tone,
};

/// What `describe` opens in the Database pane: the selected session.
pub fn detail_target(state: &State) -> Option<DetailTarget> {
    let (database, s) = state.database.selected_session(&state.metrics.databases)?;
    Some(DetailTarget::Session {
        database: database.to_string(),
        pid: s.pid,
        backend_start: s.backend_start,
    })
}

fn find(db: &DbSnapshot, pid: i32) -> Option<&DbSession> {
    db.sessions.iter().find(|s| s.pid == pid)
}

fn one_line(s: &DbSession) -> String {
    let query: String = s.query.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "pid {} · {} · {} · {} · {}",
        s.pid,
        s.user,
        s.state.label(),
        crate::fmt::duration_short(s.running),
        query
    )
}

/// The session as the latest snapshot has it; an error once it has ended
/// (or its pid now belongs to another backend).
pub fn session_detail(dbs: &[DbSnapshot], target: &DetailTarget) -> Result<Detail, String> {
    let DetailTarget::Session {
        database,
        pid,
        backend_start,
    } = target
    else {
        return Err(format!("{target} is not a database session"));
    };
    let db = dbs
        .iter()
        .find(|d| &d.name == database)
        .ok_or_else(|| format!("database {database} is not in the latest snapshot"))?;
    let s = find(db, *pid)
        .filter(|s| s.backend_start == *backend_start)
        .ok_or_else(|| {
            format!("session {pid} has ended (it is not in the latest snapshot of {database})")
        })?;
    let mut summary = DetailSection::new(format!("Session {} on {}", s.pid, db.name));
    let state_tone = match s.state {
        SessionState::IdleInTransaction => Tone::Warn,
        _ => Tone::Plain,
    };
    summary.push(DetailRow::toned("state", s.state.label(), state_tone));
    summary.field("user", &s.user);
    summary.field(
        "application",
        if s.application.is_empty() {
            "-"
        } else {
            &s.application
        },
    );
    summary.field("client", if s.client.is_empty() { "-" } else { &s.client });
    let waiting = s.wait_event.clone().unwrap_or_else(|| "-".into());
    let wait_tone = if s.wait_event.as_deref().is_some_and(|w| w.contains("Lock")) {
        Tone::Warn
    } else {
        Tone::Plain
    };
    summary.push(DetailRow::toned("wait event", waiting, wait_tone));
    summary.field("running", crate::fmt::duration_short(s.running));
    summary.field(
        "backend start",
        crate::domain::log_text::rfc3339_millis(s.backend_start),
    );
    let mut query = DetailSection::new("Query");
    if s.query.trim().is_empty() {
        query.push(DetailRow::text("(no query)"));
    } else {
        for line in s.query.lines() {
            query.push(DetailRow::text(line.trim_end()));
        }
    }
    let mut blocking = DetailSection::new("Blocking chain");
    // Who this session waits for, and who they wait for, up to the head.
    let mut seen = BTreeSet::from([s.pid]);
    let mut level = s.blocked_by.clone();
    let mut depth = 0;
    while !level.is_empty() && depth < 8 {
        let mut next = Vec::new();
        for p in level {
            if !seen.insert(p) {
                continue;
            }
            let arrow = format!("{}waits for ", "  ".repeat(depth));
            match find(db, p) {
                Some(b) => {
                    let tone = if b.blocked_by.is_empty() {
                        Tone::Bad
                    } else {
                        Tone::Warn
                    };
                    let head = if b.blocked_by.is_empty() {
                        " (head of the chain)"
                    } else {
                        ""
                    };
                    blocking.push(DetailRow::text_toned(
                        format!("{arrow}{}{head}", one_line(b)),
                        tone,
                    ));
                    next.extend(b.blocked_by.iter().copied());
                }
                None => blocking.push(DetailRow::text(format!(
                    "{arrow}pid {p} (not in the snapshot)"
                ))),
            }
        }
        level = next;
        depth += 1;
    }
    let waiters: Vec<&DbSession> = db
        .sessions
        .iter()
        .filter(|o| o.blocked_by.contains(&s.pid))
        .collect();
    for w in &waiters {
        blocking.push(DetailRow::text_toned(
            format!("blocks {}", one_line(w)),
            Tone::Warn,
        ));
    }
    if blocking.rows.is_empty() {
        blocking.push(DetailRow::text("not blocked, blocking no one"));
    }
    Ok(Detail {
        sections: vec![summary, query, blocking],
        yaml: None,
        links: s
            .blocked_by
            .iter()
            .chain(waiters.iter().map(|w| &w.pid))
            .filter_map(|p| find(db, *p))
            .map(|b| DetailTarget::Session {
                database: db.name.clone(),
                pid: b.pid,
                backend_start: b.backend_start,
            })
            .collect(),
    })
}
