//! Webhook signatures: HMAC-SHA256 over the raw body, compared in constant
//! time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

/// X's form: `sha256=<base64 HMAC>`. Used for both the webhook signature
/// header and the CRC challenge response.
pub fn x_signature(secret: &[u8], message: &[u8]) -> String {
    format!(
        "sha256={}",
        BASE64.encode(mac(secret, message).finalize().into_bytes())
    )
}

/// Checks an `x-twitter-webhooks-signature` header value.
pub fn verify_x(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(encoded) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = BASE64.decode(encoded) else {
        return false;
    };
    // `verify_slice` compares in constant time.
    mac(secret, body).verify_slice(&expected).is_ok()
}

/// The hex form Meta (`X-Hub-Signature-256`) and Mastodon
/// (`X-Hub-Signature`) send: `sha256=<lowercase hex HMAC>`.
pub fn hex_signature(secret: &[u8], message: &[u8]) -> String {
    let digest = mac(secret, message).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Checks a `sha256=<hex>` header value; hex of either case is accepted.
pub fn verify_hex(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(encoded) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(encoded) else {
        return false;
    };
    mac(secret, body).verify_slice(&expected).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Compares a shared token (Meta's verify token) in constant time, by
/// comparing MACs of both under a fixed key.
pub fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let expected = mac(b"earshot-token-compare", expected)
        .finalize()
        .into_bytes();
    mac(b"earshot-token-compare", given)
        .verify_slice(&expected)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_x_published_vectors() {
        assert_eq!(
            x_signature(b"test", b"test=1&other_test=2"),
            "sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc="
        );
        assert_eq!(
            x_signature(b"test", br#"{"test_number":1,"test_string":"two"}"#),
            "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI="
        );
    }

    #[test]
    fn verification_accepts_only_the_right_secret_and_body() {
        let header = "sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc=";
        assert!(verify_x(b"test", b"test=1&other_test=2", header));
        assert!(!verify_x(b"other", b"test=1&other_test=2", header));
        assert!(!verify_x(b"test", b"test=1&other_test=3", header));
        assert!(!verify_x(
            b"test",
            b"test=1&other_test=2",
            "25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc="
        ));
        assert!(!verify_x(
            b"test",
            b"test=1&other_test=2",
            "sha256=not base64!"
        ));
        assert!(!verify_x(b"test", b"test=1&other_test=2", ""));
    }

    #[test]
    fn hex_signatures_round_trip_and_refuse_tampering() {
        let body = br#"{"object":"page","entry":[]}"#;
        let header = hex_signature(b"app-secret", body);
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), "sha256=".len() + 64);
        assert!(verify_hex(b"app-secret", body, &header));
        assert!(verify_hex(
            b"app-secret",
            body,
            &header.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify_hex(b"other", body, &header));
        assert!(!verify_hex(b"app-secret", b"{}", &header));
        assert!(!verify_hex(
            b"app-secret",
            body,
            header.trim_start_matches("sha256=")
        ));
        assert!(!verify_hex(b"app-secret", body, "sha256=zz"));
        assert!(!verify_hex(b"app-secret", body, "sha256=abc"));
        assert!(!verify_hex(b"app-secret", body, ""));
    }

    #[test]
    fn hex_signature_matches_an_independent_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex_signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_secret(b"verify-me", b"verify-me"));
        assert!(!same_secret(b"verify-me", b"verify-m"));
        assert!(!same_secret(b"verify-me", b""));
    }
}
