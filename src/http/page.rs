//! Pagination, one way for every list: a request asks for at most `limit` items
//! after the `after` cursor of the page before; the list fetches one row more
//! than it answers, to learn whether another page follows, and answers a
//! [`Page`] whose `next` is the cursor of the last item answered, and which
//! it answers with a `Link: <…>; rel="next"` header (RFC 8288) to that page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, ErrorCode, FieldError};

/// The page size of a list request that names none.
const DEFAULT_PAGE_SIZE: i64 = 50;
/// The largest page a client may ask for; more is refused, not clamped.
const MAX_PAGE_SIZE: i64 = 500;

/// A page of a list: `items`, newest last, and the `next` cursor to pass as
/// `after` (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// A list answers its page as JSON, with a `Link` to the next page when
/// there is one: the same path and query, `after` set to `next`.
impl<T: ToSchema + Serialize> Responder for Page<T> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if let Some(next) = &self.next {
            response.insert_header((header::LINK, next_link(req, next)));
        }
        response.json(self)
    }
}

/// `<path?query>; rel="next"` with the request's query, its `after` replaced.
fn next_link(req: &HttpRequest, next: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(
        form_urlencoded::parse(req.query_string().as_bytes()).filter(|(name, _)| name != "after"),
    );
    query.append_pair("after", next);
    format!("<{}?{}>; rel=\"next\"", req.path(), query.finish())
}

/// What a list request asked for: the page size, checked once, and where the
/// page starts.
pub(super) struct PageRequest<C> {
    /// The cursor the page starts after: as the client sent it, or read as a
    /// position ([`PageRequest::by_position`]).
    pub after: C,
    limit: i64,
}

impl PageRequest<Option<String>> {
    /// Checks `limit` against [`MAX_PAGE_SIZE`] (refusing, never clamping) and
    /// keeps the cursor as sent: a time-ordered id that the list's query
    /// compares, or one that the list's filter reads later.
    pub fn new(after: Option<String>, limit: Option<i64>) -> AppResult<Self> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            Some(n) => return Err(limit_refused(n)),
        };
        Ok(PageRequest { after, limit })
    }

    /// The cursor read as a position in the list (a sequence number or a row
    /// id): no cursor starts at 0.
    pub fn by_position(self) -> AppResult<PageRequest<i64>> {
        Ok(PageRequest {
            after: position(self.after.as_deref())?,
            limit: self.limit,
        })
    }
}

impl<C> PageRequest<C> {
    /// How many rows to fetch: one more than the page holds.
    pub fn rows(&self) -> i64 {
        self.limit + 1
    }

    /// Trims rows fetched with [`PageRequest::rows`] to the page and gives the
    /// cursor of the next page (the `position` of the last item), if there is one.
    pub fn cut<T, K: ToString>(
        &self,
        mut rows: Vec<T>,
        position: impl Fn(&T) -> K,
    ) -> (Vec<T>, Option<String>) {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|r| position(r).to_string())
        } else {
            None
        };
        (rows, next)
    }
}

/// Reads an opaque `after` cursor as a position in a list (no cursor: 0).
pub(super) fn position(after: Option<&str>) -> AppResult<i64> {
    match after {
        None => Ok(0),
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidQuery,
                "after: is not a cursor returned by this list",
            )
            .with_errors(vec![FieldError::new(
                "after",
                "invalid_cursor",
                "is not a cursor returned by this list",
            )])
        }),
    }
}

fn limit_refused(asked: i64) -> AppError {
    AppError::new(
        ErrorCode::LimitExceeded,
        format!("limit must be between 1 and {MAX_PAGE_SIZE}, got {asked}"),
    )
    .with_errors(vec![FieldError::new(
        "limit",
        "out_of_range",
        format!("must be 1 to {MAX_PAGE_SIZE}"),
    )
    .with_limit(MAX_PAGE_SIZE as usize)])
    .with("limit", MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_to_its_limit_and_names_the_next_cursor_only_when_more_follow() {
        let request = PageRequest::new(None, Some(2)).unwrap();
        assert_eq!(request.rows(), 3);
        assert_eq!(
            request.cut(vec![1, 2, 3], |n| *n),
            (vec![1, 2], Some("2".into()))
        );
        assert_eq!(request.cut(vec![1, 2], |n| *n), (vec![1, 2], None));
    }

    #[test]
    fn a_limit_past_the_largest_page_is_refused_not_clamped() {
        assert_eq!(
            PageRequest::new(None, None).unwrap().rows(),
            DEFAULT_PAGE_SIZE + 1
        );
        for bad in [0, -1, MAX_PAGE_SIZE + 1] {
            let refusal = PageRequest::new(None, Some(bad)).err().unwrap();
            assert_eq!(refusal.code(), ErrorCode::LimitExceeded);
        }
    }

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_after() {
        let req = actix_web::test::TestRequest::get()
            .uri("/v1/funds/KE-MWF/workers?after=old&limit=2&document_number=P%2012")
            .to_http_request();
        assert_eq!(
            next_link(&req, "0193-x"),
            "</v1/funds/KE-MWF/workers?limit=2&document_number=P+12&after=0193-x>; rel=\"next\""
        );
    }

    #[test]
    fn a_position_cursor_is_a_number_from_zero() {
        assert_eq!(position(None).unwrap(), 0);
        assert_eq!(position(Some("17")).unwrap(), 17);
        for bad in ["-1", "x", "0193aa"] {
            assert_eq!(
                position(Some(bad)).unwrap_err().code(),
                ErrorCode::InvalidQuery
            );
        }
    }
}
