//! What the driver does to the terminal itself besides drawing: copy to
//! the clipboard with OSC 52 (which works over ssh and, wrapped, in tmux),
//! and suspend on ctrl-z (hand the terminal back, stop, take it again on
//! `fg` and redraw everything).

use std::io::Write;

use base64::Engine;

/// The OSC 52 sequence that puts `text` on the system clipboard. Inside
/// tmux it is wrapped in tmux's passthrough (`ESC P tmux; … ESC \`, every
/// ESC of the inner sequence doubled) so tmux hands it to the outer terminal.
pub fn osc52(text: &str, tmux: bool) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{encoded}\x07");
    if tmux {
        format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    }
}

/// Write the OSC 52 copy of `text` to the terminal.
pub(super) fn copy(terminal: &mut ratatui::DefaultTerminal, text: &str) -> std::io::Result<()> {
    let tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    let out = terminal.backend_mut();
    out.write_all(osc52(text, tmux).as_bytes())?;
    out.flush()
}

/// ctrl-z: leave the alternate screen and raw mode, stop (SIGTSTP, as the
/// shell expects), and once continued take the terminal again and clear it,
/// so the next frame is drawn whole. Returns the terminal's size then (it
/// may have changed while stopped).
#[cfg(unix)]
pub(super) fn suspend(terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<(u16, u16)> {
    use crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
    ratatui::try_restore()?;
    crossterm::execute!(std::io::stdout(), crossterm::cursor::Show)?;
    tracing::info!("suspended (ctrl-z)");
    // Returns once the process is continued (fg, or SIGCONT).
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    tracing::info!("continued");
    enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
    // Clears the screen and forgets the last frame (`clear()` would ask the
    // terminal where its cursor is, racing the input reader for the answer).
    let (w, h) = crossterm::terminal::size()?;
    terminal.resize(ratatui::layout::Rect::new(0, 0, w, h))?;
    Ok((w, h))
}

#[cfg(not(unix))]
pub(super) fn suspend(_terminal: &mut ratatui::DefaultTerminal) -> std::io::Result<(u16, u16)> {
    Err(std::io::Error::other(
        "suspending is not supported on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::osc52;

    #[test]
    fn osc52_is_base64_between_osc_and_bel() {
        assert_eq!(osc52("api-6d4f", false), "\x1b]52;c;YXBpLTZkNGY=\x07");
    }

    #[test]
    fn osc52_in_tmux_is_wrapped_with_escs_doubled() {
        assert_eq!(osc52("hi", true), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    }
}
