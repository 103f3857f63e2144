//! An identity provider's signing keys from a JWKS document (RFC 7517), chosen
//! by the token's `kid`, so a ministry's Keycloak or Entra ID can rotate its
//! keys without a restart of mwf.
//!
//! The set is held in memory per process: keys are configuration, not state,
//! and every process reads them from the same document. It is read again every
//! `MWF_JWT_JWKS_REFRESH_SECONDS` by a background thread, and on demand when a
//! token names a key id the set does not hold, at most once per
//! [`ON_DEMAND_INTERVAL`] so a flood of made-up key ids cannot hammer the
//! provider. A failed refresh keeps the last good set and logs a warning.
//!
//! Only RSA (RS256) and EC P-256 (ES256) signature keys are taken, each for the
//! one algorithm its type allows (and its `alg`, when the key names one): a
//! symmetric key in a key set is never a way to forge HS256 tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, TryLockError, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::config::{JwksSettings, JwksSource};

/// The shortest time between two reads of the document asked for by tokens
/// with unknown key ids.
pub const ON_DEMAND_INTERVAL: Duration = Duration::from_secs(10);
/// How long a fetch of the document may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest document read: real key sets are a few kilobytes.
const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// A key of the set: the one algorithm it verifies, and the key.
#[derive(Clone)]
pub struct SigningKey {
    pub algorithm: Algorithm,
    pub key: Arc<DecodingKey>,
}

/// The keys of a JWKS document by key id, and how to read them again.
pub struct KeySet {
    source: JwksSource,
    keys: RwLock<HashMap<String, SigningKey>>,
    /// Held while the document is read, so that reads never overlap and
    /// requests waiting for an unknown key id wait for one read; it holds the
    /// time of the last read made on demand.
    reading: Mutex<Option<Instant>>,
}

impl KeySet {
    /// Reads the document (an unreachable or invalid one is an error naming
    /// `MWF_JWT_JWKS`) and starts the thread that reads it again every
    /// `settings.refresh`; the thread ends once the set is dropped.
    pub fn load(settings: &JwksSettings) -> Result<Arc<KeySet>, String> {
        let keys = read(&settings.source)
            .map_err(|why| format!("MWF_JWT_JWKS: {}: {why}", settings.source))?;
        log::info!(
            "read {} signing key(s) from {}",
            keys.len(),
            settings.source
        );
        let set = Arc::new(KeySet {
            source: settings.source.clone(),
            keys: RwLock::new(keys),
            reading: Mutex::new(None),
        });
        start_refresher(Arc::downgrade(&set), settings.refresh)?;
        Ok(set)
    }

    /// The key with this id, if the set holds it.
    pub fn get(&self, kid: &str) -> Option<SigningKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    /// True when a token naming `kid` should wait for the document to be read
    /// again: the set does not hold it, and a read is under way or may be
    /// made on demand now.
    pub fn wants_reading_for(&self, kid: &str) -> bool {
        if self.get(kid).is_some() {
            return false;
        }
        match self.reading.try_lock() {
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Poisoned(last)) => may_read_on_demand(*last.into_inner()),
            Ok(last) => may_read_on_demand(*last),
        }
    }

    /// Reads the document again for a token naming `kid` (blocking: call it
    /// on the blocking pool), unless the key arrived meanwhile or the last
    /// read on demand was less than [`ON_DEMAND_INTERVAL`] ago.
    pub fn read_for(&self, kid: &str) {
        let mut last = self.lock_reading();
        if self.get(kid).is_some() || !may_read_on_demand(*last) {
            return;
        }
        *last = Some(Instant::now());
        self.replace_keys(&format!("a token names the unknown key id {kid:?}"));
    }

    /// The scheduled read of the background thread.
    fn read_on_schedule(&self) {
        let _reading = self.lock_reading();
        self.replace_keys("scheduled");
    }

    fn lock_reading(&self) -> MutexGuard<'_, Option<Instant>> {
        self.reading.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the document and replaces the keys, or keeps them (with a
    /// warning) when the document cannot be read or holds no usable key.
    fn replace_keys(&self, why: &str) {
        match read(&self.source) {
            Ok(keys) => {
                log::debug!(
                    "read {} signing key(s) from {} ({why})",
                    keys.len(),
                    self.source
                );
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys;
            }
            Err(problem) => log::warn!(
                "MWF_JWT_JWKS: reading {} again ({why}) failed, the keys read before stay in force: {problem}",
                self.source
            ),
        }
    }
}

fn may_read_on_demand(last: Option<Instant>) -> bool {
    last.is_none_or(|at| at.elapsed() >= ON_DEMAND_INTERVAL)
}

fn start_refresher(set: Weak<KeySet>, every: Duration) -> Result<(), String> {
    std::thread::Builder::new()
        .name("mwf-jwks".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            match set.upgrade() {
                Some(set) => set.read_on_schedule(),
                None => break,
            }
        })
        .map(drop)
        .map_err(|e| format!("MWF_JWT_JWKS: cannot start the refreshing thread: {e}"))
}

/// The signing keys of the document at `source`; none is an error.
fn read(source: &JwksSource) -> Result<HashMap<String, SigningKey>, String> {
    let document = match source {
        JwksSource::File(path) => read_file(path)?,
        JwksSource::Url(url) => fetch(url)?,
    };
    let keys = signing_keys(&document)?;
    if keys.is_empty() {
        return Err("the document holds no RS256 or ES256 signing key with a kid".into());
    }
    Ok(keys)
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut document = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut document))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if document.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(format!("it is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    Ok(document)
}

fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| format!("cannot fetch it: {e}"))?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_DOCUMENT_BYTES)
        .read_to_vec()
        .map_err(|e| format!("cannot read the answer: {e}"))
}

/// The document's shape: keys are read one by one, so that one key of a kind
/// mwf does not use (an encryption key, a curve it does not know) does not
/// make the whole set unreadable.
#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

fn signing_keys(document: &[u8]) -> Result<HashMap<String, SigningKey>, String> {
    let document: Document = serde_json::from_slice(document)
        .map_err(|e| format!("it is not a JWKS document ({{\"keys\": [...]}}): {e}"))?;
    let mut keys = HashMap::new();
    for (index, raw) in document.keys.into_iter().enumerate() {
        let kid = raw.get("kid").and_then(|k| k.as_str()).map(str::to_string);
        match serde_json::from_value::<Jwk>(raw)
            .map_err(|e| e.to_string())
            .and_then(|jwk| signing_key(&jwk))
        {
            Ok(key) => {
                if let Some(kid) = kid {
                    keys.insert(kid, key);
                }
            }
            Err(why) => log::debug!("JWKS key {index} ({kid:?}) is not used: {why}"),
        }
    }
    Ok(keys)
}

/// The key and its one algorithm, if `jwk` is an RSA or EC P-256 key for
/// signatures whose `alg`, when it has one, is that algorithm.
fn signing_key(jwk: &Jwk) -> Result<SigningKey, String> {
    if jwk.common.key_id.is_none() {
        return Err("it has no kid".into());
    }
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return Err("it is not for signatures (use)".into());
    }
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return Err("only RSA and EC P-256 keys are used".into()),
    };
    if matches!(jwk.common.key_algorithm, Some(alg) if alg != named) {
        return Err(format!("its alg is not {algorithm:?}"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    Ok(SigningKey {
        algorithm,
        key: Arc::new(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn keys_of(keys: Vec<serde_json::Value>) -> HashMap<String, SigningKey> {
        signing_keys(serde_json::json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn rsa_and_ec_keys_are_taken_by_kid_each_for_its_own_algorithm() {
        let keys = keys_of(vec![fixture("rsa.jwk.json"), fixture("ec.jwk.json")]);
        assert_eq!(keys["a"].algorithm, Algorithm::RS256);
        assert_eq!(keys["ec"].algorithm, Algorithm::ES256);
    }

    #[test]
    fn symmetric_encryption_mismatched_and_unknown_keys_are_left_out_not_fatal() {
        let mut encryption = fixture("rsa.jwk.json");
        encryption["use"] = "enc".into();
        encryption["kid"] = "enc".into();
        let mut mismatched = fixture("rsa.jwk.json");
        mismatched["alg"] = "ES256".into();
        mismatched["kid"] = "mismatched".into();
        let mut without_kid = fixture("ec.jwk.json");
        without_kid.as_object_mut().unwrap().remove("kid");
        let keys = keys_of(vec![
            serde_json::json!({"kty": "oct", "kid": "hs", "k": "c2VjcmV0", "alg": "HS256"}),
            serde_json::json!({"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}),
            serde_json::json!({"kty": "XYZ", "kid": "odd"}),
            encryption,
            mismatched,
            without_kid,
            fixture("other_rsa.jwk.json"),
        ]);
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn a_document_that_is_not_a_key_set_is_an_error() {
        assert!(signing_keys(b"{}").is_err());
        assert!(signing_keys(b"<html>").is_err());
    }
}
