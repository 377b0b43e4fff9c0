//! Editing a prompt's line as readline does: a cursor that moves by
//! character (left/right, ctrl-a/ctrl-e), deleting the character or word
//! before it (backspace, ctrl-w), the line before it (ctrl-u), and a history
//! per kind of prompt recalled with up/down.

use std::collections::BTreeMap;

use super::confirm::Input;

/// Entries kept per kind of prompt.
pub const HISTORY_LEN: usize = 100;

/// Earlier entries of each kind of prompt, oldest first. Kept in
/// `history.json` in the state directory between sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct History {
    entries: BTreeMap<String, Vec<String>>,
}

impl History {
    /// Remember a submitted entry: blank ones are not kept, a repeated one moves to the end.
    pub fn record(&mut self, kind: &'static str, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let list = self.entries.entry(kind.to_string()).or_default();
        list.retain(|e| e != text);
        list.push(text.to_string());
        if list.len() > HISTORY_LEN {
            list.remove(0);
        }
    }

    /// Read a saved history; entries beyond the limit are dropped, oldest first.
    pub fn from_json(text: &str) -> Result<History, String> {
        let mut h: History = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for list in h.entries.values_mut() {
            let extra = list.len().saturating_sub(HISTORY_LEN);
            list.drain(..extra);
        }
        Ok(h)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The entries of one kind, oldest first.
    pub fn entries(&self, kind: &str) -> &[String] {
        self.entries.get(kind).map_or(&[], Vec::as_slice)
    }
}

impl Input {
    /// Replace the whole line; the cursor goes to its end.
    pub fn set_text(&mut self, text: String) {
        self.cursor = text.len();
        self.text = text;
        self.selected = false;
        self.error = None;
        self.completions.clear();
    }

    /// Type a character at the cursor (replacing an offered, selected value).
    pub fn insert(&mut self, c: char) {
        if self.selected {
            self.set_text(String::new());
        }
        let at = self.cursor.min(self.text.len());
        self.text.insert(at, c);
        self.cursor = at + c.len_utf8();
        self.edited();
    }

    /// Delete the character before the cursor (all of an offered value).
    pub fn backspace(&mut self) {
        if self.selected {
            return self.set_text(String::new());
        }
        if let Some(start) = self.prev_boundary() {
            self.text.replace_range(start..self.cursor, "");
            self.cursor = start;
        }
        self.edited();
    }

    /// Delete the word before the cursor and the spaces after it (ctrl-w).
    pub fn delete_word(&mut self) {
        if self.selected {
            return self.set_text(String::new());
        }
        let before = &self.text[..self.cursor];
        let kept = before.trim_end();
        let start = kept.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    /// Delete everything before the cursor (ctrl-u; the whole line when the cursor is at its end).
    pub fn kill_to_start(&mut self) {
        if self.selected {
            return self.set_text(String::new());
        }
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
        self.edited();
    }

    pub fn left(&mut self) {
        self.selected = false;
        if let Some(i) = self.prev_boundary() {
            self.cursor = i;
        }
    }

    pub fn right(&mut self) {
        self.selected = false;
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    pub fn home(&mut self) {
        self.selected = false;
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.selected = false;
        self.cursor = self.text.len();
    }

    /// Show the previous (older) history entry; the typed line is kept as the draft.
    pub fn recall_older(&mut self, history: &[String]) {
        let next = match self.recalled {
            None if history.is_empty() => return,
            None => {
                self.draft = self.text.clone();
                0
            }
            Some(i) => (i + 1).min(history.len() - 1),
        };
        self.show_recalled(history, next);
    }

    /// Show the next (newer) history entry, or the draft after the newest.
    pub fn recall_newer(&mut self, history: &[String]) {
        match self.recalled {
            None => {}
            Some(0) => {
                self.recalled = None;
                let draft = std::mem::take(&mut self.draft);
                self.set_text(draft);
            }
            Some(i) => self.show_recalled(history, i - 1),
        }
    }

    fn show_recalled(&mut self, history: &[String], back: usize) {
        if let Some(entry) = history.iter().rev().nth(back) {
            self.recalled = Some(back);
            self.set_text(entry.clone());
        }
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.text[..self.cursor]
            .char_indices()
            .next_back()
            .map(|(i, _)| i)
    }

    fn edited(&mut self) {
        self.selected = false;
        self.error = None;
        self.completions.clear();
    }
}
