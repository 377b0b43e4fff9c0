//! The one bound on waiting for a server, for checks, detail views and
//! every poll.

use std::time::Duration;

/// `fut`'s output, or a message saying the server did not answer within
/// `limit` (the one wording for checks, detail views and every poll).
pub(super) async fn within_for<T>(
    limit: Duration,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| format!("no answer from the server within {:.0?}", limit))
}
