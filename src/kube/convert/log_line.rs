//! One line of `kubectl logs --timestamps` output as a log line.

use std::time::SystemTime;

use crate::domain::{Level, LogLine};

/// One line of `kubectl logs --timestamps` output: an RFC 3339 timestamp,
/// a space, the text. Lines without a timestamp keep `fallback` as time.
pub fn parse_log_line(source: &str, raw: &str, fallback: SystemTime) -> LogLine {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let (time, text) = match raw.split_once(' ') {
        Some((ts, rest)) => match ts.parse::<k8s_openapi::jiff::Timestamp>() {
            Ok(t) => (SystemTime::from(t), rest),
            Err(_) => (fallback, raw),
        },
        None => match raw.parse::<k8s_openapi::jiff::Timestamp>() {
            Ok(t) => (SystemTime::from(t), ""),
            Err(_) => (fallback, raw),
        },
    };
    LogLine {
        source: source.to_string(),
        time,
        level: Level::sniff(text),
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_parse_timestamp_and_level() {
        let now = SystemTime::UNIX_EPOCH;
        let l = parse_log_line(
            "api-1",
            "2026-11-23T10:00:01.123456789Z ERROR pool timeout",
            now,
        );
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.text, "ERROR pool timeout");
        assert_eq!(
            l.time,
            humantime::parse_rfc3339("2026-11-23T10:00:01.123456789Z").unwrap()
        );
        let l = parse_log_line("api-1", "no timestamp here", now);
        assert_eq!(l.time, now);
        assert_eq!(l.text, "no timestamp here");
    }
}
