//! Connection strings: taking out the TLS settings this crate handles itself (`sslmode`,
//! `sslrootcert`, which the driver does not fully understand), and the redacted form shown
//! in `name()`, `Debug` and every error message (`postgres://user:***@host/db`). Nothing here
//! connects.
//!
//! Both libpq forms are read: the URL form (`postgres://user:secret@host:5432/db?sslmode=
//! verify-full&sslrootcert=/path/ca.pem`) and the keyword form (`host=h user=u password=p
//! sslmode=require`, values without spaces or quotes for the two TLS keys).

use persistent_core::{Error, StorageErrorKind};

/// How the connection uses TLS (libpq's `sslmode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    #[default]
    Prefer,
    /// TLS always; the certificate is checked against a CA only when one is given.
    Require,
    /// TLS always; the certificate must be signed by the given CA (any host name).
    VerifyCa,
    /// TLS always; the certificate must be signed by the given CA and name the host.
    VerifyFull,
}

impl SslMode {
    /// The mode named `value` as libpq spells it (`allow` is read as `prefer`).
    fn parse(value: &str) -> Result<SslMode, Error> {
        match value {
            "disable" => Ok(SslMode::Disable),
            "allow" | "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(Error::storage(
                StorageErrorKind::Invalid,
                format!(
                    "sslmode={other} is not a TLS mode; use disable, prefer, require, verify-ca \
                     or verify-full"
                ),
            )),
        }
    }
}

/// A connection string split into what the driver parses and what this crate handles.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// The string without `sslmode` and `sslrootcert`, for `postgres::Config::from_str`.
    pub(crate) driver: String,
    /// The TLS mode asked for (libpq's default `prefer` when absent).
    pub(crate) ssl_mode: SslMode,
    /// `sslrootcert`, when given.
    pub(crate) root_cert: Option<String>,
    /// The string with its password replaced by `***`.
    pub(crate) redacted: String,
}

/// Splits `url` (see the module docs).
pub(crate) fn parse(url: &str) -> Result<ParsedUrl, Error> {
    let url = url.trim();
    let (driver, settings) = if is_url_form(url) { split_url(url) } else { split_keywords(url) };
    let mut ssl_mode = SslMode::default();
    let mut root_cert = None;
    for (key, value) in settings {
        match key.as_str() {
            "sslmode" => ssl_mode = SslMode::parse(&value)?,
            _ => root_cert = Some(value),
        }
    }
    Ok(ParsedUrl { driver, ssl_mode, root_cert, redacted: redact(url) })
}

fn is_url_form(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without the TLS parameters, and those parameters (percent-decoded).
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "sslmode" || key == "sslrootcert" {
            taken.push((key.to_owned(), percent_decode(value)));
        } else {
            kept.push(pair);
        }
    }
    let driver =
        if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (driver, taken)
}

/// The keyword string without the TLS keywords, and those keywords.
fn split_keywords(url: &str) -> (String, Vec<(String, String)>) {
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for token in url.split_whitespace() {
        match token.split_once('=') {
            Some((key, value)) if key == "sslmode" || key == "sslrootcert" => {
                taken.push((key.to_owned(), value.trim_matches('\'').to_owned()));
            }
            _ => kept.push(token),
        }
    }
    (kept.join(" "), taken)
}

/// `%XX` escapes decoded (a malformed escape is kept as written).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with its password shown as `***`: the `user:password@` part of the URL form, and
/// any `password=` parameter or keyword.
#[must_use]
pub(crate) fn redact(url: &str) -> String {
    if is_url_form(url) {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        // The authority ends at the first '/', '?' or end; its credentials at the last '@'.
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let authority = match authority.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => format!("{credentials}@{host}"),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some(("password", _)) => "password=***".to_owned(),
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    } else {
        let mut out = Vec::new();
        let mut in_password = false;
        for token in url.split_whitespace() {
            if in_password {
                // A quoted password with spaces: skip until the closing quote.
                in_password = !token.ends_with('\'');
                continue;
            }
            match token.split_once('=') {
                Some(("password", value)) => {
                    in_password = value.starts_with('\'') && !value[1..].ends_with('\'');
                    out.push("password=***".to_owned());
                }
                _ => out.push(token.to_owned()),
            }
        }
        out.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cr%40t@db.example:5433/shop?sslmode=require"),
            "postgres://app:***@db.example:5433/shop?sslmode=require"
        );
        assert_eq!(redact("postgresql://app@h/db"), "postgresql://app@h/db");
        assert_eq!(
            redact("postgres://h/db?user=u&password=pw"),
            "postgres://h/db?user=u&password=***"
        );
        assert_eq!(
            redact("host=h user=u password=pw dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(redact("host=h password='two words' dbname=d"), "host=h password=*** dbname=d");
    }

    #[test]
    fn tls_settings_are_taken_out() {
        let parsed = parse(
            "postgres://u:p@h/db?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Fca.pem",
        )
        .unwrap();
        assert_eq!(parsed.driver, "postgres://u:p@h/db?connect_timeout=3");
        assert_eq!(parsed.ssl_mode, SslMode::VerifyFull);
        assert_eq!(parsed.root_cert.as_deref(), Some("/ca.pem"));
        let parsed = parse("host=h sslmode=disable user=u").unwrap();
        assert_eq!((parsed.driver.as_str(), parsed.ssl_mode), ("host=h user=u", SslMode::Disable));
        assert_eq!(parse("postgres://h/db").unwrap().ssl_mode, SslMode::Prefer);
        assert!(parse("postgres://h/db?sslmode=sometimes").is_err());
    }
}
