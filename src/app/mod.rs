//! The driver: owns the terminal and the background tasks, feeds messages to
//! [`crate::core::update`], runs the effects it returns and draws when the
//! state changed.
//!
//! [`tasks`] starts and supervises the sources, [`effects`] turns effects
//! into work (audit before and after every change).

mod audited;
mod deadline;
mod effects;
mod tasks;
mod terminal;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use audited::run_audited;
pub use effects::follow_query;
pub use tasks::Intervals;
pub use terminal::osc52;

use effects::{Io, SwitchResult, handle};
use tasks::{spawn_input, spawn_ticks_and_signals, start};

use crate::audit::AuditLog;
use crate::core::{Effect, Msg, State};
use crate::source::Backends;
use crate::theme::Theme;

/// Frames are drawn at most this often.
const FRAME: Duration = Duration::from_millis(16);

/// The theme drawn with, and every theme `:theme` can switch to.
pub struct Themes {
    pub current: Theme,
    pub all: BTreeMap<String, Theme>,
}

/// Run the console until the user quits or a signal arrives; return the
/// state it ended in (the caller keeps the prompts' history).
pub async fn run(
    mut state: State,
    themes: Themes,
    backends: Backends,
    audit: AuditLog,
) -> anyhow::Result<State> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the console needs a terminal, and standard output is not one (try `opsdeck check-config` for a non-interactive check)"
        );
    }
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, &mut state, themes, backends, audit).await;
    ratatui::try_restore()?;
    result.map(|()| state)
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    mut themes: Themes,
    backends: Backends,
    audit: AuditLog,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let (switch_tx, mut switch_rx) = mpsc::channel::<SwitchResult>(4);
    let root = CancellationToken::new();
    let (refresh_tx, refresh_rx) = watch::channel(0u64);
    let intervals = Intervals::default();
    let mut running = start(backends, &root, &tx, &refresh_rx, intervals);
    spawn_input(&tx, &root);
    spawn_ticks_and_signals(&tx, &root);

    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let io = Io {
        tx: tx.clone(),
        audit,
        refresh: refresh_tx,
        switch: switch_tx,
        interrupt: CancellationToken::new(),
        inflight: Arc::new(AtomicUsize::new(0)),
    };
    while !state.quit {
        let wait = FRAME.saturating_sub(last_draw.elapsed());
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { break };
                let mut own = handle(state, m, &running, &io);
                // Coalesce whatever else is already queued into the same frame.
                while let Ok(m) = rx.try_recv() {
                    own.extend(handle(state, m, &running, &io));
                }
                for effect in own {
                    on_terminal(terminal, state, &mut themes, effect, &running, &io);
                }
                dirty = true;
            }
            Some((context, result)) = switch_rx.recv() => {
                match result {
                    Ok(backends) => {
                        running.cancel.cancel();
                        let target = backends.target.clone();
                        running = start(backends, &root, &tx, &refresh_rx, intervals);
                        handle(state, Msg::Switched(target), &running, &io);
                    }
                    Err(e) => {
                        handle(state, Msg::Flash { text: format!("cannot switch to {context}: {e}"), error: true }, &running, &io);
                    }
                }
                dirty = true;
            }
            _ = tokio::time::sleep(wait), if dirty => {
                draw(terminal, state, &themes.current)?;
                last_draw = Instant::now();
                dirty = false;
            }
        }
    }
    // Actions still running (ctrl-c twice, or a signal's wait ran out):
    // each writes its `finished` record, marked interrupted, before we go.
    if io.inflight.load(Ordering::SeqCst) > 0 {
        io.interrupt.cancel();
        let deadline = Instant::now() + Duration::from_secs(3);
        while io.inflight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    root.cancel();
    Ok(())
}

/// Run an effect on the terminal itself; failures are said in the status bar.
fn on_terminal(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    themes: &mut Themes,
    effect: Effect,
    running: &tasks::Running,
    io: &effects::Io,
) {
    let failed = match effect {
        Effect::Copy { text } => terminal::copy(terminal, &text)
            .err()
            .map(|e| format!("copy failed: {e}")),
        Effect::Suspend => match terminal::suspend(terminal) {
            Ok((w, h)) => {
                handle(state, Msg::Resize(w, h), running, io);
                None
            }
            Err(e) => Some(format!("cannot suspend: {e}")),
        },
        Effect::SetTheme { name } => match themes.all.get(&name) {
            Some(theme) => {
                themes.current = theme.clone();
                None
            }
            None => Some(format!("no theme \"{name}\"")),
        },
        _ => None,
    };
    if let Some(text) = failed {
        tracing::warn!(error = %text, "terminal effect failed");
        handle(state, Msg::Flash { text, error: true }, running, io);
    }
}

fn draw(
    terminal: &mut ratatui::DefaultTerminal,
    state: &State,
    theme: &Theme,
) -> anyhow::Result<()> {
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::BeginSynchronizedUpdate
    )?;
    terminal.draw(|f| crate::ui::render(f, state, theme))?;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::EndSynchronizedUpdate
    )?;
    terminal.backend_mut().flush()?;
    Ok(())
}
