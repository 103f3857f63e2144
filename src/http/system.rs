//! Health endpoints (no token).

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::db;

/// `ok` when up; `unavailable` when the database can't be used.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    /// `sqlite` or `postgresql` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<String>,
}

/// The process is up.
#[utoipa::path(tag = "system", responses((status = 200, description = "The process is up", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: HealthStatus::Ok,
        database: None,
        detail: None,
    })
}

/// The database is reachable and fully migrated.
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable or not migrated", body = Health)
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let state = state.clone();
    let checked = web::block(move || -> Result<&'static str, String> {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        if db::is_migrated(&mut conn) {
            Ok(db::backend_name(&conn))
        } else {
            Err("migrations are pending".to_string())
        }
    })
    .await;
    match checked {
        Ok(Ok(backend)) => HttpResponse::Ok().json(Health {
            status: HealthStatus::Ok,
            database: Some(backend.into()),
            detail: None,
        }),
        Ok(Err(why)) => HttpResponse::ServiceUnavailable().json(Health {
            status: HealthStatus::Unavailable,
            database: None,
            detail: Some(why),
        }),
        Err(e) => HttpResponse::ServiceUnavailable().json(Health {
            status: HealthStatus::Unavailable,
            database: None,
            detail: Some(e.to_string()),
        }),
    }
}
