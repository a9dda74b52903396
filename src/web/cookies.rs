//! The login-binding cookie. It must survive a cross-site iframe: `SameSite=None; Secure;
//! Partitioned` (CHIPS), which browsers also accept over loopback http. `insecure_cookies` drops
//! `Secure` and `Partitioned` for plain-http development, where `SameSite=Lax` is all a browser allows.
use axum::http::{HeaderMap, HeaderValue, header};

/// A `Set-Cookie` value for the login binding, scoped to the LTI endpoints.
pub fn login_binding(name: &str, value: &str, max_age: u64, insecure: bool) -> Option<HeaderValue> {
    let attributes = if insecure {
        "SameSite=Lax"
    } else {
        "Secure; SameSite=None; Partitioned"
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/lti/; Max-Age={max_age}; HttpOnly; {attributes}"
    ))
    .ok()
}

/// A `Set-Cookie` value that removes the login binding once it has served.
pub fn clear_login_binding(name: &str, insecure: bool) -> Option<HeaderValue> {
    login_binding(name, "", 0, insecure)
}

/// The session of a person who signed in without an LMS (the tool is the top-level page then).
pub const SESSION: &str = "cb_session";
/// The sign-in under way, between leaving for the provider and coming back.
pub const SIGNIN_STATE: &str = "cb_signin";

/// A first-party cookie: `HttpOnly; SameSite=Lax`, and `Secure` unless the development setting
/// says the tool is reached over plain http.
pub fn first_party(
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    insecure: bool,
) -> Option<HeaderValue> {
    let secure = if insecure { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// The value of cookie `name` in the request, if any.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_attributes_follow_the_mode() {
        let secure = login_binding("a", "b", 600, false).unwrap();
        assert_eq!(
            secure.to_str().unwrap(),
            "a=b; Path=/lti/; Max-Age=600; HttpOnly; Secure; SameSite=None; Partitioned"
        );
        let insecure = login_binding("a", "b", 600, true).unwrap();
        assert!(!insecure.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; cb_login_ab=secret; y=2"),
        );
        assert_eq!(read(&headers, "cb_login_ab").as_deref(), Some("secret"));
        assert_eq!(read(&headers, "missing"), None);
    }
}
