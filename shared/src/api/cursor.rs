//! Page cursors. A cursor is opaque to clients, bound to the connector, route
//! and filters it was made for, and signed with HMAC-SHA256 so that any
//! cursor the API did not issue for that listing is rejected.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::ApiError;

#[derive(Clone)]
pub struct CursorSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner([redacted])")
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The listing: route and connector, e.g. `users:<connector id>`.
    scope: String,
    /// The filters of the listing, in a fixed order.
    filters: String,
    /// Sort key of the last item returned.
    after: String,
}

impl CursorSigner {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    pub fn issue(&self, scope: &str, filters: &str, after: &str) -> String {
        let payload = Payload {
            scope: scope.to_owned(),
            filters: filters.to_owned(),
            after: after.to_owned(),
        };
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let tag = self.tag(&json);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Returns the sort key to continue after, if the cursor is one this API
    /// issued for the same scope and filters.
    pub fn verify(&self, cursor: &str, scope: &str, filters: &str) -> Result<String, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_cursor",
                "cursor is not valid for this listing: pass the nextCursor of the previous page unchanged, with the same filters, or omit it to start from the first page",
            )
            .with_field("cursor")
        };
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        let mut mac = self.mac();
        mac.update(&json);
        mac.verify_slice(&tag).map_err(|_| invalid())?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| invalid())?;
        if payload.scope != scope || payload.filters != filters {
            return Err(invalid());
        }
        Ok(payload.after)
    }

    /// Returns a keyed digest (HMAC-SHA256, base64url) of `parts`, bound to
    /// `purpose`, for values that must be compared later but not stored,
    /// such as request bodies that hold an API token.
    pub fn digest(&self, purpose: &str, parts: &[&[u8]]) -> String {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        for part in parts {
            // Length prefixes keep ("ab", "c") apart from ("a", "bc").
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn tag(&self, json: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(json);
        mac.finalize().into_bytes().to_vec()
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let signer = CursorSigner::new(b"key".to_vec());
        let cursor = signer.issue("users:abc", "status=ACTIVE", "00u1");
        assert_eq!(
            signer
                .verify(&cursor, "users:abc", "status=ACTIVE")
                .unwrap(),
            "00u1"
        );
    }

    #[test]
    fn cursor_bound_to_scope_and_filters() {
        let signer = CursorSigner::new(b"key".to_vec());
        let cursor = signer.issue("users:abc", "", "00u1");
        assert!(signer.verify(&cursor, "users:other", "").is_err());
        assert!(signer
            .verify(&cursor, "users:abc", "status=ACTIVE")
            .is_err());
    }

    #[test]
    fn tampered_cursor_rejected() {
        let signer = CursorSigner::new(b"key".to_vec());
        let cursor = signer.issue("users:abc", "", "00u1");
        let (payload, tag) = cursor.split_once('.').unwrap();
        let forged =
            URL_SAFE_NO_PAD.encode(br#"{"scope":"users:abc","filters":"","after":"00u9"}"#);
        assert!(signer
            .verify(&format!("{forged}.{tag}"), "users:abc", "")
            .is_err());
        assert!(signer.verify(payload, "users:abc", "").is_err());
        let other = CursorSigner::new(b"other".to_vec());
        assert!(other.verify(&cursor, "users:abc", "").is_err());
    }
}
