//! The authenticated caller as an actix extractor: a handler that takes a
//! [`Caller`] is answered 401 (with a `WWW-Authenticate` challenge) unless the
//! request carries a bearer token the configured [`Verifier`] accepts.

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::{Caller, Verifier};
use crate::error::{AppError, AppResult, ErrorCode};

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> AppResult<Caller> {
    let challenge = |e: AppError| e.with_header("www-authenticate", "Bearer realm=\"mwf\"");
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
    verifier.verify(token).map_err(challenge)
}
