//! Validated values that cross the API edge: connector ids, Okta domains and
//! API tokens. Each has a `parse` that returns an error naming what is wrong,
//! so an invalid value cannot exist past the edge.

use std::fmt;
use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Host suffixes of Okta org domains. Custom domains must be allowed explicitly.
pub const OKTA_ORG_SUFFIXES: &[&str] = &[
    ".okta.com",
    ".oktapreview.com",
    ".okta-emea.com",
    ".okta-gov.com",
    ".okta.mil",
];

/// Why a value was rejected at the edge. The message names the value and
/// says what to do; the API maps it to a 400 with the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    pub code: &'static str,
    pub message: String,
}

impl InvalidValue {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Identifier of a connector: 32 lower-case hex digits (a UUID v4 without
/// dashes), so it is safe in DynamoDB keys, secret names and schedule names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectorId(String);

impl ConnectorId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let valid = value.len() == 32
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidValue::new(
                "invalid_connector_id",
                format!(
                    "'{}' is not a connector id: ids are 32 lower-case hex digits, as returned by POST /connectors",
                    truncate_for_message(value)
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectorId {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ConnectorId> for String {
    fn from(id: ConnectorId) -> Self {
        id.0
    }
}

impl fmt::Display for ConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which Okta hosts a deployment may connect to besides Okta's org domains.
#[derive(Debug, Clone, Default)]
pub struct DomainPolicy {
    /// Lets a connector point at plain HTTP on loopback (`127.0.0.1:PORT`,
    /// `localhost:PORT`, `[::1]:PORT`), for local runs against the fake Okta.
    pub allow_http_loopback: bool,
    /// Custom domains (exact host names, lower case) that the deployment allows.
    pub custom_domains: Vec<String>,
}

/// The host of an Okta org, normalised: lower case, no scheme, no path, and
/// the `-admin` host replaced by the org host where the API lives. A loopback
/// domain keeps its port (`127.0.0.1:8080`) and is reached over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OktaDomain(String);

impl OktaDomain {
    /// Parses what an admin typed (`https://acme.okta.com/`, `acme.okta.com`,
    /// `acme-admin.okta.com`) and checks it against the deployment's policy.
    pub fn parse(input: &str, policy: &DomainPolicy) -> Result<Self, InvalidValue> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue::new(
                "invalid_domain",
                "domain is empty: enter your Okta org's host, for example acme.okta.com",
            ));
        }
        let lower = trimmed.to_ascii_lowercase();
        let (scheme, rest) = match lower.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_owned()), rest.to_owned()),
            None => (None, lower.clone()),
        };
        let host_port = rest.strip_suffix('/').unwrap_or(&rest);

        if let Some(loopback) = Self::parse_loopback(host_port) {
            return Self::accept_loopback(loopback, scheme.as_deref(), input, policy);
        }

        match scheme.as_deref() {
            None | Some("https") => {}
            Some(other) => {
                return Err(InvalidValue::new(
                    "invalid_domain",
                    format!("domain '{}' uses the scheme '{other}': Okta is reached over https only; enter the host alone, for example acme.okta.com", truncate_for_message(input)),
                ))
            }
        }
        if host_port.contains(['/', '?', '#']) {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!(
                    "domain '{}' contains a path: enter the host alone, for example acme.okta.com",
                    truncate_for_message(input)
                ),
            ));
        }
        if host_port.contains('@') {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!("domain '{}' contains a user name: enter the host alone, for example acme.okta.com", truncate_for_message(input)),
            ));
        }
        if host_port.contains(':') || host_port.starts_with('[') {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!("domain '{}' contains a port or an IP address: Okta orgs are reached by host name on port 443, for example acme.okta.com", truncate_for_message(input)),
            ));
        }
        if host_port.parse::<IpAddr>().is_ok() {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!("domain '{}' is an IP address: enter your Okta org's host name, for example acme.okta.com", truncate_for_message(input)),
            ));
        }
        validate_hostname(host_port, input)?;

        let host = strip_admin_label(host_port);
        let is_okta = OKTA_ORG_SUFFIXES
            .iter()
            .any(|suffix| host.len() > suffix.len() && host.ends_with(suffix));
        let is_custom = policy.custom_domains.iter().any(|allowed| allowed == &host);
        if !is_okta && !is_custom {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!(
                    "domain '{}' is not an Okta org domain (*.okta.com, *.oktapreview.com, *.okta-emea.com, *.okta-gov.com, *.okta.mil); a custom domain must first be allowed in the deployment's AllowedCustomDomains parameter",
                    truncate_for_message(input)
                ),
            ));
        }
        Ok(Self(host))
    }

    /// Re-checks a stored domain before a connection, because the policy of
    /// the running function may be stricter than the one that stored it.
    pub fn recheck(&self, policy: &DomainPolicy) -> Result<Self, InvalidValue> {
        Self::parse(&self.0, policy)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_loopback(&self) -> bool {
        Self::parse_loopback(&self.0).is_some()
    }

    /// Base URL of the org's API: https, or plain http for an allowed loopback.
    pub fn base_url(&self) -> String {
        if self.is_loopback() {
            format!("http://{}", self.0)
        } else {
            format!("https://{}", self.0)
        }
    }

    fn parse_loopback(host_port: &str) -> Option<(&str, u16)> {
        let (host, port) = host_port.rsplit_once(':')?;
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return None;
        }
        let port: u16 = port.parse().ok()?;
        (port != 0).then_some((host, port))
    }

    fn accept_loopback(
        (host, port): (&str, u16),
        scheme: Option<&str>,
        input: &str,
        policy: &DomainPolicy,
    ) -> Result<Self, InvalidValue> {
        if !policy.allow_http_loopback {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!("domain '{}' is a loopback address, which this deployment does not allow: enter your Okta org's host, for example acme.okta.com", truncate_for_message(input)),
            ));
        }
        if !matches!(scheme, None | Some("http")) {
            return Err(InvalidValue::new(
                "invalid_domain",
                format!("domain '{}': a loopback Okta is reached over plain http; write it as {host}:{port}", truncate_for_message(input)),
            ));
        }
        Ok(Self(format!("{host}:{port}")))
    }
}

impl fmt::Display for OktaDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `acme-admin.okta.com` is the admin console; the API lives on `acme.okta.com`.
fn strip_admin_label(host: &str) -> String {
    match host.split_once('.') {
        Some((first, rest)) if first.len() > "-admin".len() && first.ends_with("-admin") => {
            format!("{}.{}", &first[..first.len() - "-admin".len()], rest)
        }
        _ => host.to_owned(),
    }
}

fn validate_hostname(host: &str, input: &str) -> Result<(), InvalidValue> {
    let invalid = |why: &str| {
        InvalidValue::new(
            "invalid_domain",
            format!(
                "domain '{}' is not a valid host name ({why}): enter your Okta org's host, for example acme.okta.com",
                truncate_for_message(input)
            ),
        )
    };
    if host.len() > 253 {
        return Err(invalid("longer than 253 characters"));
    }
    if !host.contains('.') {
        return Err(invalid("no dot"));
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid(
                "each dot-separated part must have 1 to 63 characters",
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("only letters, digits, '-' and '.' are allowed"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a part may not start or end with '-'"));
        }
    }
    Ok(())
}

/// An Okta API token. Its value never prints: `Debug` is redacted and there
/// is no `Display`; only the Okta client and the secret store read it.
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    /// Okta API tokens are 42 characters today; the bounds leave room for
    /// other formats while rejecting pasted whitespace and obvious mistakes.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.len() < 20 || value.len() > 512 {
            return Err(InvalidValue::new(
                "invalid_api_token",
                format!(
                    "apiToken has {} characters; Okta API tokens have 20 to 512. Copy the whole token from Okta (Security > API > Tokens)",
                    value.chars().count()
                ),
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue::new(
                "invalid_api_token",
                "apiToken contains spaces or characters outside printable ASCII; copy the token again from Okta (Security > API > Tokens)",
            ));
        }
        Ok(Self(SecretString::from(value.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([redacted])")
    }
}

/// Shortens a value quoted in an error message, so a 60 KiB field does not
/// come back whole.
pub fn truncate_for_message(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn okta_only() -> DomainPolicy {
        DomainPolicy::default()
    }

    fn loopback() -> DomainPolicy {
        DomainPolicy {
            allow_http_loopback: true,
            custom_domains: vec![],
        }
    }

    #[test]
    fn domain_forms_normalise_to_org_host() {
        for input in [
            "https://acme.okta.com/",
            "acme.okta.com",
            "acme-admin.okta.com",
            "  ACME.Okta.com ",
            "https://acme-admin.okta.com",
        ] {
            let domain = OktaDomain::parse(input, &okta_only()).unwrap();
            assert_eq!(domain.as_str(), "acme.okta.com", "input {input:?}");
        }
    }

    #[test]
    fn domain_rejects_other_hosts() {
        for input in [
            "",
            "example.com",
            "okta.com",
            "http://acme.okta.com",
            "acme.okta.com/path",
            "user@acme.okta.com",
            "acme.okta.com:8443",
            "10.0.0.1",
            "169.254.169.254",
            "[::1]:80",
            "127.0.0.1:9000",
            "acme..okta.com",
            "-acme.okta.com",
            "acme.okta.com.evil.example",
            "ftp://acme.okta.com",
        ] {
            let error = OktaDomain::parse(input, &okta_only()).unwrap_err();
            assert_eq!(error.code, "invalid_domain", "input {input:?}");
        }
    }

    #[test]
    fn loopback_only_with_policy() {
        for (input, stored) in [
            ("127.0.0.1:9000", "127.0.0.1:9000"),
            ("http://localhost:8080/", "localhost:8080"),
            ("[::1]:1234", "[::1]:1234"),
        ] {
            let domain = OktaDomain::parse(input, &loopback()).unwrap();
            assert_eq!(domain.as_str(), stored);
            assert_eq!(domain.base_url(), format!("http://{stored}"));
        }
        assert!(OktaDomain::parse("https://127.0.0.1:9000", &loopback()).is_err());
        assert!(OktaDomain::parse("127.0.0.1", &loopback()).is_err());
    }

    #[test]
    fn custom_domain_needs_allow_list() {
        let policy = DomainPolicy {
            allow_http_loopback: false,
            custom_domains: vec!["login.acme.example".into()],
        };
        assert!(OktaDomain::parse("login.acme.example", &policy).is_ok());
        assert!(OktaDomain::parse("login.other.example", &policy).is_err());
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = ApiToken::parse("00abcdefghijklmnopqrstuvwxyz0123456789ABCD").unwrap();
        assert_eq!(format!("{token:?}"), "ApiToken([redacted])");
    }

    #[test]
    fn connector_id_rejects_traversal() {
        assert!(ConnectorId::parse("../../etc/passwd").is_err());
        assert!(ConnectorId::parse(&ConnectorId::generate().to_string()).is_ok());
    }
}
