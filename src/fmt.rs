//! Small formatting helpers shared by the UI and prompts.

use std::time::Duration;

/// `45s`, `12m`, `3h`, `2d`: the largest whole unit, as kubectl prints ages.
pub fn duration_short(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s}s")
    } else if s < 2 * 3600 {
        format!("{}m", s / 60)
    } else if s < 2 * 86400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86400)
    }
}

/// `13:04:05` (UTC), the clock time log lines and problems are shown with.
pub fn clock(t: std::time::SystemTime) -> String {
    let ts = humantime::format_rfc3339_seconds(t).to_string();
    ts.get(11..19).unwrap_or("").to_string()
}

/// `12m05s` style, for running times where minutes matter.
pub fn duration_ms(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// A metric value with a sensible number of decimals.
pub fn value(v: f64, unit: &str) -> String {
    let n = if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    match unit {
        "" => n,
        "%" => format!("{n}%"),
        u => format!("{n} {u}"),
    }
}

/// A byte count in B, KiB, MiB or GiB (`1.5 MiB`).
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b.max(0.0);
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Break `s` into lines of at most `width` columns, at spaces where it can
/// and inside a word where a word alone is too long; nothing is cut off.
pub fn wrap_words(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0;
    for word in s.split(' ') {
        let ww = unicode_width::UnicodeWidthStr::width(word);
        if w > 0 && w + 1 + ww <= width {
            line.push(' ');
            line.push_str(word);
            w += 1 + ww;
            continue;
        }
        if w > 0 {
            lines.push(std::mem::take(&mut line));
            w = 0;
        }
        for c in word.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w + cw > width && w > 0 {
                lines.push(std::mem::take(&mut line));
                w = 0;
            }
            line.push(c);
            w += cw;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_scale_to_the_largest_whole_unit() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
        assert_eq!(bytes(-1.0), "0 B");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_short(Duration::from_secs(5)), "5s");
        assert_eq!(duration_short(Duration::from_secs(600)), "10m");
        assert_eq!(duration_short(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(duration_ms(Duration::from_secs(725)), "12m05s");
        assert_eq!(value(0.912, "s"), "0.91 s");
        assert_eq!(value(93.0, "%"), "93%");
        assert_eq!(value(12.34, "%"), "12.3%");
    }
}
