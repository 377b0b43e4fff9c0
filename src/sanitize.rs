//! Untrusted text (log lines, names, query text, error messages) is made safe
//! here before it reaches a terminal cell.
//!
//! Escape sequences (CSI, OSC, DCS, ...) are removed whole; other C0/C1
//! controls, DEL and bidirectional overrides are replaced with a visible
//! `\u{FFFD}`-free placeholder; tabs become spaces.

/// Characters that reorder text visually (Trojan Source) or are invisible format controls.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Make one line safe to display. The result contains no ESC, no C0/C1
/// control characters (other than none at all: tabs become spaces, newlines
/// become `⏎`), no DEL and no bidi overrides.
pub fn line(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / SOS / PM / APC introducers: swallow their sequence too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => out.push_str("    "),
            '\n' => out.push('⏎'),
            '\r' => {}
            c if c.is_control() => out.push('�'),
            c if is_bidi_or_invisible(c) => out.push('�'),
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            chars.next();
            skip_string(chars);
        }
        // Two-byte sequences with an intermediate (ESC ( B, ESC # 8, ...).
        Some(c) if (' '..='/').contains(&c) => {
            chars.next();
            if chars.peek().is_some_and(|c| ('0'..='~').contains(c)) {
                chars.next();
            }
        }
        // ESC followed by a final byte (ESC c, ESC 7, ESC M ...).
        Some(c) if ('0'..='~').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte in `@..=~`.
fn skip_csi(chars: &mut Chars<'_>) {
    while let Some(&c) = chars.peek() {
        if ('0'..='?').contains(&c) || (' '..='/').contains(&c) {
            chars.next();
        } else {
            if ('@'..='~').contains(&c) {
                chars.next();
            }
            return;
        }
    }
}

/// OSC/DCS/...: everything up to BEL, ST (`ESC \`) or C1 ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                // ST ends the string; any other ESC ends it too and starts a
                // new sequence, which is skipped whole as well.
                if chars.peek() == Some(&'\\') {
                    chars.next();
                } else {
                    skip_escape(chars);
                }
                return;
            }
            _ => {}
        }
    }
}

/// Make text safe to display while keeping it recognisable: every control
/// character (ESC included), DEL and bidi or invisible format character is
/// shown as its escape (`\u{1b}`), so an escape sequence is seen, neither
/// obeyed nor silently dropped. For text users must find in their own files
/// (a key, a value, a file name in a problem); [`line()`] is for text read, not
/// searched for (log lines).
pub fn visible(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if c.is_control() || is_bidi_or_invisible(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// True when `s` is safe to put in a cell as it is.
pub fn is_clean(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || is_bidi_or_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_and_osc() {
        assert_eq!(line("\x1b[31mred\x1b[0m"), "red");
        assert_eq!(line("a\x1b]0;evil title\x07b"), "ab");
        assert_eq!(line("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"), "alinkb");
        assert_eq!(line("\x1b[2J\x1b[Hclear"), "clear");
        assert_eq!(line("x\u{9b}31my"), "xy");
        // An ESC inside a DCS/OSC string ends it and starts its own sequence.
        assert_eq!(line("\u{90}\x1b[31mred"), "red");
        assert_eq!(line("a\x1b]0;t\x1b[1mb"), "ab");
    }

    #[test]
    fn replaces_other_controls() {
        assert_eq!(line("a\x07b\x00c\x7fd"), "a�b�c�d");
        assert_eq!(line("tab\there"), "tab    here");
        assert_eq!(line("multi\nline\r"), "multi⏎line");
        assert_eq!(line("safe \u{202E}evil"), "safe �evil");
        assert!(is_clean(&line("\x1bc\x1b7\x1b(B ok")));
    }

    #[test]
    fn visible_escapes_what_it_does_not_show() {
        assert_eq!(
            visible("a\x1b]0;t\x07\u{9b}2J\u{202e}\tb\n"),
            "a\\u{1b}]0;t\\u{7}\\u{9b}2J\\u{202e}\\u{9}b\\u{a}"
        );
        assert_eq!(visible("plain ✓"), "plain ✓");
    }
}
