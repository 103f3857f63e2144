//! `/docs`: Swagger UI for the generated document, served from files compiled
//! into the binary (no internet access needed), and `/openapi.json`.

use utoipa_swagger_ui::SwaggerUi;

pub fn swagger_ui(api: utoipa::openapi::OpenApi) -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api)
}

/// `/docs` → `/docs/` (Swagger UI resolves its assets relative to the slash).
pub async fn redirect_to_docs() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
