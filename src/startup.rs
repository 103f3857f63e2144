//! Building the application from settings: database, keys, HTTP server. The
//! binary and the tests start the service the same way.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Compress, ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use utoipa_actix_web::AppExt;

use crate::auth::{self, Role, Verifier};
use crate::config::{Environment, Settings};
use crate::db;
use crate::http::{self, conventions, problem, AppState};

/// Where development mode keeps its generated signing secret.
pub fn development_secret_path() -> PathBuf {
    std::env::var_os("MWF_DEV_SECRET_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".mwf-dev-secret"))
}

/// The HS256 secret in force: the configured one, or in development mode with no
/// key material at all, the generated development secret.
pub fn signing_secret(settings: &Settings) -> Result<Option<Vec<u8>>, String> {
    if let Some(secret) = &settings.jwt.secret {
        return Ok(Some(secret.clone()));
    }
    if settings.environment == Environment::Development && !settings.jwt.has_provider_keys() {
        return auth::development_secret(&development_secret_path()).map(Some);
    }
    Ok(None)
}

pub struct Application {
    port: u16,
    server: Server,
    /// The webhook delivery worker, stopped with the server.
    webhooks: crate::webhooks::Worker,
    /// In development mode without key material: an admin token to try the API with.
    pub development_token: Option<String>,
}

impl Application {
    /// Connects to and migrates the database, loads the keys and binds the server.
    pub fn build(settings: Settings) -> Result<Application, String> {
        let pool = db::pool(&settings.database_url, settings.pool_size)?;
        {
            let mut conn = pool.get().map_err(|e| format!("database: {e}"))?;
            let applied = db::migrate(&mut conn)?;
            if applied > 0 {
                log::info!(
                    "applied {applied} migration(s) to the {} database",
                    db::backend_name(&conn)
                );
            }
        }
        let development = settings.jwt.secret.is_none() && !settings.jwt.has_provider_keys();
        let secret = signing_secret(&settings)?;
        let verifier = Verifier::new(&settings.jwt, secret.as_deref())?;
        let development_token = match (&secret, development) {
            (Some(secret), true) => Some(auth::mint_token(
                secret,
                &settings.jwt,
                "dev-admin",
                Role::Admin,
                &["*".to_string()],
                12 * 3600,
            )),
            _ => None,
        };
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("MWF_BIND {}: {e}", settings.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let webhooks = crate::webhooks::Worker::start(pool.clone(), settings.webhooks.clone());
        let reads = match &settings.read_database_url {
            Some(url) => {
                log::info!("fund-wide reads (lists, reports, exports, verification) go to the read replica");
                db::ReadPools::with_replica(pool.clone(), url, settings.pool_size)
            }
            None => db::ReadPools::primary_only(pool.clone()),
        };
        let server = serve(listener, pool, reads, verifier, &settings, webhooks.clone())?;
        Ok(Application {
            port,
            server,
            webhooks,
            development_token,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The webhook worker, to stop it where the server is stopped without
    /// this future ending (the tests stop the actix system).
    pub fn webhook_worker(&self) -> crate::webhooks::Worker {
        self.webhooks.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopped = self.server.await;
        self.webhooks.stop();
        stopped
    }
}

fn serve(
    listener: TcpListener,
    pool: db::DbPool,
    reads: db::ReadPools,
    verifier: Verifier,
    settings: &Settings,
    webhooks: crate::webhooks::Worker,
) -> Result<Server, String> {
    let client_timeout = settings.client_request_timeout;
    let committer = http::group::Committer::start(pool.clone(), "mwf-group-commit");
    let claim_committer = http::group::Committer::start(pool.clone(), "mwf-claim-commit");
    let state = web::Data::new(AppState {
        pool,
        reads,
        committer,
        claim_committer,
        webhooks,
    });
    let verifier = web::Data::new(verifier);
    let api = http::openapi();
    let routes = web::Data::new(problem::RouteTable::from_openapi(&api));
    let origins = conventions::AllowedOrigins::new(settings.cors_origins.clone());
    let mut server = HttpServer::new(move || {
        application(
            state.clone(),
            verifier.clone(),
            routes.clone(),
            api.clone(),
            client_timeout,
            origins.clone(),
        )
    })
    .client_request_timeout(client_timeout)
    .listen(listener)
    .map_err(|e| e.to_string())?;
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    Ok(server.run())
}

/// One worker's application: the shared state, the middleware from the
/// innermost (deadlines) to the outermost (the access log), the API's routes,
/// the docs and the problem answer for unknown routes.
fn application(
    state: web::Data<AppState>,
    verifier: web::Data<Verifier>,
    routes: web::Data<problem::RouteTable>,
    api: utoipa::openapi::OpenApi,
    client_timeout: Duration,
    origins: conventions::AllowedOrigins,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .app_data(state)
        .app_data(verifier)
        .app_data(routes)
        .app_data(web::PayloadConfig::new(http::MAX_BODY_BYTES))
        // Innermost: an oversized head is refused (431) and a body that runs
        // out of time is answered 408 here.
        .wrap_fn(move |req, srv| enforce_deadlines(req, srv, client_timeout))
        // A path parameter breaking the rule for strings is refused before routing.
        .wrap_fn(|req, srv| {
            use futures_util::future::{ready, Either, TryFutureExt};
            match http::text::path_refusal(&req) {
                Some(refusal) => Either::Left(ready(Ok(req.error_response(refusal)))),
                None => Either::Right(srv.call(req).map_ok(|res| res.map_into_boxed_body())),
            }
        })
        .wrap(ErrorHandlers::new().default_handler(problem::to_problem))
        // The web's conventions (http::conventions): ETag on the uncompressed
        // body, gzip, HEAD answered as GET without a body, CORS.
        .wrap_fn(conventions::entity_tag)
        .wrap(Compress::default())
        .wrap_fn(conventions::usable_accept_encoding)
        .wrap_fn(conventions::answer_head)
        .wrap_fn(move |req, srv| conventions::cross_origin(&origins, req, srv))
        .wrap_fn(|req, srv| {
            let id = problem::assign_request_id(&req);
            let call = srv.call(req);
            async move {
                let mut res = call.await?;
                if let Ok(value) = HeaderValue::from_str(&id) {
                    res.headers_mut()
                        .insert(HeaderName::from_static("x-request-id"), value);
                }
                Ok(res)
            }
        })
        // `X-Mwf-Read-Source` on the answers of reads routed by http::replica.
        .wrap_fn(|req, srv| {
            let (call, source) = http::replica::scoped(srv.call(req));
            async move {
                let mut res = call.await?;
                if let Some(source) = source.get() {
                    res.headers_mut().insert(
                        HeaderName::from_static(http::replica::READ_SOURCE_HEADER),
                        HeaderValue::from_static(source.as_str()),
                    );
                }
                Ok(res)
            }
        })
        .wrap(Logger::new("%a \"%r\" %s %b %Dms %{x-request-id}o"))
        .into_utoipa_app()
        .configure(http::routes)
        .split_for_parts();
    app.route("/docs", web::get().to(http::docs::redirect_to_docs))
        .service(http::docs::swagger_ui(api))
        .configure(http::console::routes)
        .default_service(web::to(problem::no_route))
}

/// Refuses an oversized head (431) before the request goes on, and answers 408
/// for a request whose body did not arrive within `client_timeout`.
fn enforce_deadlines<S, B>(
    mut req: ServiceRequest,
    srv: &S,
    client_timeout: Duration,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    if let Some(refusal) = http::deadline::head_refusal(&req) {
        let res = req.into_response(refusal.error_response());
        return async move { Ok(res) }.boxed_local();
    }
    let deadline = http::deadline::limit_body_time(&mut req, client_timeout);
    let call = srv.call(req);
    async move {
        let res = call.await?;
        Ok(if deadline.expired() {
            http::deadline::timed_out(res, client_timeout)
        } else {
            res.map_into_boxed_body()
        })
    }
    .boxed_local()
}
