//! The next-token loop of the ECS list calls.

use crate::source::SourceError;

/// Every item of a paged list call: `page(token)` fetches one page and
/// returns its items and the next token; an absent or empty token ends it.
pub(super) async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, SourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), SourceError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token.take()).await?;
        out.extend(items);
        match next {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}
