//! One key with its modifiers ([`KeyChord`]), and sequences of them: parsed
//! from keymap text, read from terminal events, shown in hints and help.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key with its modifiers, normalised (shift folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// Normalise: shift is folded into characters (`shift-g` is `G`) and
    /// into `backtab` (`shift-tab`); with ctrl, letters are lower case (`ctrl-D` is `ctrl-d`).
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers = modifiers;
        let mut code = code;
        match code {
            KeyCode::Char(c) => {
                if modifiers.contains(KeyModifiers::CONTROL) {
                    code = KeyCode::Char(c.to_ascii_lowercase());
                } else if modifiers.contains(KeyModifiers::SHIFT) {
                    code = KeyCode::Char(c.to_ascii_uppercase());
                }
                modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::Tab | KeyCode::BackTab
                if code == KeyCode::BackTab || modifiers.contains(KeyModifiers::SHIFT) =>
            {
                code = KeyCode::BackTab;
                modifiers.remove(KeyModifiers::SHIFT);
            }
            _ => {}
        }
        Self { code, modifiers }
    }

    /// Parse one key (`ctrl-d`, `G`, `shift-tab`, `f5`). The error says why,
    /// without repeating the key.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        if text.is_empty() {
            return Err("empty key".to_string());
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let found = [
                ("ctrl-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ]
            .into_iter()
            .find(|(p, _)| lower.starts_with(p));
            let Some((prefix, m)) = found else { break };
            if rest.len() == prefix.len() {
                return Err(format!("no key after \"{rest}\""));
            }
            if modifiers.contains(m) {
                return Err(format!("\"{}\" is given twice", &rest[..prefix.len()]));
            }
            modifiers |= m;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(KeyChord::new(KeyCode::Char(c), modifiers));
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "space" => KeyCode::Char(' '),
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdown" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(format!("unknown key name \"{rest}\"")),
            },
            _ => return Err(format!("unknown key name \"{rest}\"")),
        };
        Ok(KeyChord::new(code, modifiers))
    }

    pub fn from_event(ev: &KeyEvent) -> Self {
        Self::new(ev.code, ev.modifiers)
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            write!(f, "ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            write!(f, "alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            write!(f, "shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => write!(f, "space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => write!(f, "enter"),
            KeyCode::Esc => write!(f, "esc"),
            KeyCode::Tab => write!(f, "tab"),
            KeyCode::BackTab => write!(f, "backtab"),
            KeyCode::Backspace => write!(f, "backspace"),
            KeyCode::Up => write!(f, "up"),
            KeyCode::Down => write!(f, "down"),
            KeyCode::Left => write!(f, "left"),
            KeyCode::Right => write!(f, "right"),
            KeyCode::PageUp => write!(f, "pgup"),
            KeyCode::PageDown => write!(f, "pgdown"),
            KeyCode::Home => write!(f, "home"),
            KeyCode::End => write!(f, "end"),
            KeyCode::Delete => write!(f, "delete"),
            KeyCode::Insert => write!(f, "insert"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// `g g`, `ctrl-d`.
pub fn seq_text(seq: &[KeyChord]) -> String {
    seq.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parse a space-separated key sequence (`g g`, `ctrl-w l`). A lone space
/// (`" "`) is the space key. The error is a full problem message.
pub fn parse_seq(text: &str) -> Result<Vec<KeyChord>, String> {
    if text == " " {
        return Ok(vec![KeyChord::new(KeyCode::Char(' '), KeyModifiers::NONE)]);
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.is_empty() {
        return Err(format!("bad key \"{text}\": empty key"));
    }
    parts
        .iter()
        .map(|p| {
            KeyChord::parse(p).map_err(|why| {
                if parts.len() == 1 {
                    format!("bad key \"{text}\": {why}")
                } else {
                    format!("bad key \"{text}\": \"{p}\": {why}")
                }
            })
        })
        .collect()
}
