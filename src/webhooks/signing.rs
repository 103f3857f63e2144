//! Signatures as the Standard Webhooks specification defines them
//! (<https://www.standardwebhooks.com/>), so a receiver can use any of its
//! libraries, or a few lines of its own: the secret is `whsec_` and the base64
//! of 32 random bytes; the signed content is `{webhook-id}.{webhook-timestamp}.{body}`;
//! the `webhook-signature` header is `v1,` and the base64 of the HMAC-SHA256 of
//! that content keyed with the secret's bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// What every secret starts with.
const SECRET_PREFIX: &str = "whsec_";
/// The key size of HMAC-SHA256.
const SECRET_BYTES: usize = 32;

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> AppResult<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::internal(format!("no randomness for a webhook secret: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64.encode(bytes)))
}

/// The `webhook-signature` header of a message: `v1,` and the base64 of
/// HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = BASE64
        .decode(encoded)
        .map_err(|e| AppError::internal(format!("a stored webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| AppError::internal(format!("webhook key: {e}")))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn signs_the_reference_example_as_the_specification_does() {
        let signed = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_new_secret_is_32_random_bytes_behind_the_prefix() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        let bytes = BASE64
            .decode(a.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert_eq!(bytes.len(), SECRET_BYTES);
    }

    #[test]
    fn another_body_timestamp_or_id_changes_the_signature() {
        let secret = new_secret().unwrap();
        let base = signature(&secret, "id", 1, "{}").unwrap();
        assert_ne!(base, signature(&secret, "id", 1, "{ }").unwrap());
        assert_ne!(base, signature(&secret, "id", 2, "{}").unwrap());
        assert_ne!(base, signature(&secret, "id2", 1, "{}").unwrap());
    }
}
