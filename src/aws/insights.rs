//! CloudWatch Logs Insights through aws-sdk-cloudwatchlogs: StartQuery over
//! the session's log groups, GetQueryResults as a table, StopQuery.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{QueryStatus as SdkStatus, ResultField};

use super::error::map_sdk_error;
use crate::domain::{QueryResults, QueryStatus};
use crate::source::{QueryRunner, SourceError};

/// How far back a query looks unless told otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// Runs Logs Insights queries over a fixed set of log groups.
#[derive(Debug, Clone)]
pub struct CloudWatchQueries {
    client: Client,
    groups: Vec<String>,
    window: Duration,
}

impl CloudWatchQueries {
    /// Queries over `groups`, each covering the last `window`.
    pub fn new(client: Client, groups: Vec<String>, window: Duration) -> Self {
        Self {
            client,
            groups,
            window,
        }
    }
}

#[async_trait]
impl QueryRunner for CloudWatchQueries {
    fn groups(&self) -> Vec<String> {
        self.groups.clone()
    }

    async fn start(&self, query: &str) -> Result<String, SourceError> {
        let end = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let start = end.saturating_sub(self.window.as_secs());
        let out = self
            .client
            .start_query()
            .set_log_group_names(Some(self.groups.clone()))
            .start_time(i64::try_from(start).unwrap_or(i64::MAX))
            .end_time(i64::try_from(end).unwrap_or(i64::MAX))
            .query_string(query)
            .send()
            .await
            .map_err(|e| map_sdk_error("start Logs Insights query", e))?;
        out.query_id()
            .map(str::to_string)
            .ok_or_else(|| SourceError::Other("StartQuery returned no query id".into()))
    }

    async fn results(&self, query_id: &str) -> Result<QueryResults, SourceError> {
        let out = self
            .client
            .get_query_results()
            .query_id(query_id)
            .send()
            .await
            .map_err(|e| map_sdk_error("Logs Insights results", e))?;
        let stats = out.statistics();
        let mut results = table(out.results());
        results.status = status_of(out.status());
        results.records_matched = stats.map_or(0.0, |s| s.records_matched());
        results.records_scanned = stats.map_or(0.0, |s| s.records_scanned());
        results.bytes_scanned = stats.map_or(0.0, |s| s.bytes_scanned());
        Ok(results)
    }

    async fn stop(&self, query_id: &str) -> Result<(), SourceError> {
        let answer = self
            .client
            .stop_query()
            .query_id(query_id)
            .send()
            .await
            .map_err(|e| map_sdk_error("stop Logs Insights query", e))?;
        // `success: false`: CloudWatch did not stop it (it had ended).
        if answer.success() {
            Ok(())
        } else {
            Err(SourceError::Other(format!(
                "CloudWatch did not stop Logs Insights query {query_id} (it may have ended already)"
            )))
        }
    }
}

fn status_of(s: Option<&SdkStatus>) -> QueryStatus {
    match s {
        Some(SdkStatus::Scheduled) => QueryStatus::Scheduled,
        Some(SdkStatus::Running) => QueryStatus::Running,
        Some(SdkStatus::Complete) => QueryStatus::Complete,
        Some(SdkStatus::Failed) => QueryStatus::Failed,
        Some(SdkStatus::Cancelled) => QueryStatus::Cancelled,
        Some(SdkStatus::Timeout) => QueryStatus::Timeout,
        // No status, or one newer than this build: keep asking.
        _ => QueryStatus::Running,
    }
}

/// Rows of `{field, value}` pairs as a table: columns in first-seen order,
/// `@ptr` (an opaque record pointer) left out, "" where a row lacks a field.
pub fn table(rows: &[Vec<ResultField>]) -> QueryResults {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        for f in row {
            if let Some(name) = f.field() {
                if name != "@ptr" && !columns.iter().any(|c| c == name) {
                    columns.push(name.to_string());
                }
            }
        }
    }
    let rows = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.iter()
                        .find(|f| f.field() == Some(c.as_str()))
                        .and_then(ResultField::value)
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .collect();
    QueryResults {
        status: QueryStatus::Running,
        columns,
        rows,
        records_matched: 0.0,
        records_scanned: 0.0,
        bytes_scanned: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> ResultField {
        ResultField::builder().field(name).value(value).build()
    }

    #[test]
    fn rows_become_a_table_without_the_record_pointer() {
        let t = table(&[
            vec![
                field("operation", "PlaceOrder"),
                field("errors", "41"),
                field("@ptr", "CmAKJgoi"),
            ],
            vec![field("errors", "7"), field("region", "eu-west-1")],
        ]);
        assert_eq!(t.columns, vec!["operation", "errors", "region"]);
        assert_eq!(
            t.rows,
            vec![
                vec!["PlaceOrder".to_string(), "41".into(), "".into()],
                vec!["".to_string(), "7".into(), "eu-west-1".into()],
            ]
        );
    }

    #[test]
    fn statuses_map_and_unknown_ones_keep_polling() {
        assert_eq!(status_of(Some(&SdkStatus::Complete)), QueryStatus::Complete);
        assert_eq!(status_of(Some(&SdkStatus::Timeout)), QueryStatus::Timeout);
        assert_eq!(status_of(None), QueryStatus::Running);
        assert!(!status_of(Some(&SdkStatus::Scheduled)).is_done());
    }
}
