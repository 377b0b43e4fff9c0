//! Log lines as text for files and pipes (the Logs pane's save, `opsdeck
//! logs`): one line each, sanitised, since whatever reads them may be a
//! terminal. The JSON form keeps the text whole but escaped.

use std::time::SystemTime;

use super::LogLine;
use crate::sanitize;

/// `2024-05-01T13:03:52.123Z api-7d9f-x2k4q ERROR text`, sanitised.
pub fn plain(line: &LogLine) -> String {
    format!(
        "{} {} {} {}",
        rfc3339_millis(line.time),
        sanitize::line(&line.source),
        line.level.label(),
        sanitize::line(&line.text)
    )
}

/// One JSON object: time, source, level, text. The text is sanitised too:
/// `jq -r .text` prints it raw.
pub fn json(line: &LogLine) -> String {
    let field = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    format!(
        r#"{{"time":{},"source":{},"level":{},"text":{}}}"#,
        field(&rfc3339_millis(line.time)),
        field(&sanitize::line(&line.source)),
        field(&line.level.label().to_ascii_lowercase()),
        field(&sanitize::line(&line.text))
    )
}

/// UTC with milliseconds: `2024-05-01T13:03:52.123Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::Level;

    #[test]
    fn lines_are_sanitised_in_both_forms() {
        let line = LogLine {
            source: "api-1".into(),
            time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            level: Level::Error,
            text: "boom \u{1b}[31mred\u{1b}]0;title\u{7}\n".into(),
        };
        assert_eq!(
            plain(&line),
            "2023-11-14T22:13:20.123Z api-1 ERROR boom red⏎"
        );
        assert_eq!(
            json(&line),
            r#"{"time":"2023-11-14T22:13:20.123Z","source":"api-1","level":"error","text":"boom red⏎"}"#
        );
    }
}
