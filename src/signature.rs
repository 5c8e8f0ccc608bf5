//! Webhook signatures: HMAC-SHA256 over the raw body, compared in constant
//! time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
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
}
