//! The authenticated caller as an actix extractor: a handler that takes a
//! [`Caller`] is answered 401 (with a `WWW-Authenticate` challenge) unless the
//! request carries a bearer token the configured [`Verifier`] accepts. A token
//! naming a key id the identity provider's key set does not hold yet waits,
//! on the blocking pool, for the set to be read again (a rotated key).

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture};
use futures_util::FutureExt;

use crate::auth::{Caller, Verifier};
use crate::error::{AppError, AppResult, ErrorCode};

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Either<Ready<AppResult<Caller>>, LocalBoxFuture<'static, AppResult<Caller>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let (verifier, token) = match bearer(req) {
            Ok(found) => found,
            Err(refusal) => return Either::Left(ready(Err(refusal))),
        };
        if !verifier.wants_keys_for(token) {
            return Either::Left(ready(verifier.verify(token).map_err(challenge)));
        }
        let (verifier, token) = (verifier.clone(), token.to_string());
        Either::Right(
            async move {
                web::block(move || {
                    verifier.read_keys_for(&token);
                    verifier.verify(&token)
                })
                .await?
                .map_err(challenge)
            }
            .boxed_local(),
        )
    }
}

fn challenge(e: AppError) -> AppError {
    e.with_header("www-authenticate", "Bearer realm=\"mwf\"")
}

/// The verifier and the bearer token of the request.
fn bearer(req: &HttpRequest) -> AppResult<(&web::Data<Verifier>, &str)> {
    let verifier = req
        .app_data::<web::Data<Verifier>>()
        .ok_or_else(|| AppError::internal("no verifier configured"))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        challenge(AppError::new(
            ErrorCode::Unauthenticated,
            "send Authorization: Bearer <token>",
        ))
    })?;
    let value = value.to_str().map_err(|_| {
        challenge(AppError::new(
            ErrorCode::TokenInvalid,
            "the Authorization header is not ASCII",
        ))
    })?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(challenge(AppError::new(
                ErrorCode::Unauthenticated,
                "the Authorization header must be \"Bearer <token>\"",
            )))
        }
    };
    Ok((verifier, token))
}
