//! Who may talk to the server: requests whose `Host` is not the server's own name are refused
//! (DNS rebinding: a page of `evil.example` whose name now resolves to 127.0.0.1 sends
//! `Host: evil.example`), and so are requests a page of another origin sends (`Origin`,
//! `Sec-Fetch-Site: cross-site`), so that no web page the user visits can drive the class's
//! simulation.
//!
//! The server's own names: any IP address literal (a page served from an address is the server
//! itself at that address), `localhost`, and the names given with `--allow-host`; always with the
//! server's port.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};

use super::body::shown;
use super::error::ApiError;

/// The Host and Origin check of one server.
#[derive(Debug, Clone)]
pub struct HostGuard {
    port: u16,
    allowed: Vec<String>,
}

impl HostGuard {
    /// A guard for a server listening on `port`, that also answers to `allowed` host names.
    pub fn new(port: u16, allowed: &[String]) -> HostGuard {
        HostGuard { port, allowed: allowed.iter().map(|h| h.to_ascii_lowercase()).collect() }
    }

    /// Checks a request's headers.
    ///
    /// # Errors
    /// 403 naming `Host`, `Origin` or `Sec-Fetch-Site`.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let host = text(headers, header::HOST.as_str())?.ok_or_else(|| {
            forbidden("Host", "missing; valid: this server's address, e.g. 127.0.0.1:PORT".into())
        })?;
        if !self.is_own(&host) {
            return Err(forbidden(
                "Host",
                format!(
                    "'{}' is not this server (a DNS rebinding attempt?); valid: an IP address or localhost with port {}{}",
                    shown(&host),
                    self.port,
                    if self.allowed.is_empty() {
                        String::new()
                    } else {
                        format!(", or {}", self.allowed.join(", "))
                    }
                ),
            ));
        }
        if let Some(origin) = text(headers, header::ORIGIN.as_str())? {
            let own = origin.strip_prefix("http://").is_some_and(|o| o.eq_ignore_ascii_case(&host));
            if !own {
                return Err(forbidden(
                    "Origin",
                    format!(
                        "'{}' is another site; valid: http://{host} (the page this server serves)",
                        shown(&origin)
                    ),
                ));
            }
        }
        if text(headers, "sec-fetch-site")?.as_deref() == Some("cross-site") {
            return Err(forbidden(
                "Sec-Fetch-Site",
                "'cross-site': requests from other sites are refused".into(),
            ));
        }
        Ok(())
    }

    /// Whether `host` (a `Host` header: `name`, `name:port`, `[v6]:port`) names this server.
    fn is_own(&self, host: &str) -> bool {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !name.is_empty() && (!name.contains(':') || name.ends_with(']')) => {
                (name, port.parse::<u16>().ok())
            }
            _ => (host, Some(80)),
        };
        if port != Some(self.port) {
            return false;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A header as text; a header that is not visible ASCII is refused.
fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(_) => Err(forbidden(name, "is not visible ASCII".into())),
        },
    }
}

fn forbidden(field: &str, message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, field, message)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("a header value"));
        }
        h
    }

    #[test]
    fn own_hosts_pass_and_rebinding_names_do_not() {
        let guard = HostGuard::new(8080, &["classroom.lan".into()]);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "192.0.2.7:8080",
            "classroom.lan:8080",
        ] {
            assert_eq!(guard.check(&headers(&[("host", host)])), Ok(()), "{host}");
        }
        for host in
            ["evil.example:8080", "127.0.0.1:9090", "localhost", "127.0.0.1.evil.example:8080", "[::1]"]
        {
            let e = guard.check(&headers(&[("host", host)])).expect_err(host);
            assert_eq!((e.status, e.field.as_deref()), (StatusCode::FORBIDDEN, Some("Host")), "{host}");
        }
        assert_eq!(guard.check(&HeaderMap::new()).expect_err("no Host").field.as_deref(), Some("Host"));
    }

    #[test]
    fn another_origin_is_refused() {
        let guard = HostGuard::new(8080, &[]);
        let own = [("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")];
        assert_eq!(guard.check(&headers(&own)), Ok(()));
        for origin in ["http://evil.example", "null", "https://127.0.0.1:8080", "http://localhost:8080"] {
            let e =
                guard.check(&headers(&[("host", "127.0.0.1:8080"), ("origin", origin)])).expect_err(origin);
            assert_eq!(e.field.as_deref(), Some("Origin"), "{origin}");
        }
        let e = guard
            .check(&headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]))
            .expect_err("cross-site");
        assert_eq!(e.field.as_deref(), Some("Sec-Fetch-Site"));
    }
}
