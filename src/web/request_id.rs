//! A request id for every request: made here, carried by every log line of the request's span,
//! sent back in `X-Request-Id`, and shown on error pages, so that what a person reports ("Felkod
//! DEPLOYMENT_DISABLED, begäran 3f9c…") leads an administrator to the log line.
use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

/// The response header that carries the id.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// One request's id: 16 hex digits (64 random bits), short enough to read out over the phone.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being answered, when there is one (not in the CLI or the worker).
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

/// Gives the request its id: in the request's extensions (for the trace span), in the task
/// (for error pages), and in the response.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = RequestId(new_id());
    request.extensions_mut().insert(id.clone());
    let header = HeaderValue::from_str(&id.0).ok();
    let mut response = CURRENT.scope(id, next.run(request)).await;
    if let Some(header) = header {
        response.headers_mut().insert(HEADER, header);
    }
    response
}

fn new_id() -> String {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // Not a secret, only unique: a failing generator still gives an id that is unique enough
    // among one deployment's log lines (the time in nanoseconds).
    if aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .is_err()
    {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        bytes = nanos.to_be_bytes();
    }
    format!("{:016x}", u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sixteen_hex_digits_and_differ() {
        let first = new_id();
        let second = new_id();
        assert_eq!(first.len(), 16);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn the_current_id_is_the_scoped_one_and_none_outside() {
        assert_eq!(current(), None);
        let inside = CURRENT
            .scope(RequestId("00ff".into()), async { current() })
            .await;
        assert_eq!(inside.as_deref(), Some("00ff"));
    }
}
