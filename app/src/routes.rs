//! The route table: every endpoint of the app, and the layers every request passes.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::http::{Request, StatusCode};
use axum::middleware;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::ops::{health, metrics, openapi};
use crate::state::AppState;
use crate::{auth, chat, configs, orgs, projects, ui};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What a browser may do with any response: the UI loads its own script, style and socket and
/// nothing else, is never framed, and no response is sniffed into another type.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// Drops a client's `X-Request-Id`: the id in the logs is always one this replica made, so a
/// client cannot forge or collide log lines.
async fn strip_client_request_id(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().remove("x-request-id");
    request
}

/// Every endpoint the OpenAPI document describes: each handler's `#[utoipa::path]` gives both
/// its route and its operation.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(auth::routes::router())
        .merge(orgs::routes::router())
        .merge(projects::router())
        .merge(configs::routes::router())
        .merge(chat::routes::router())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// The OpenAPI document of [`router`], as `/api/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(documented().split_for_parts().1)
}

pub fn router(state: AppState) -> Router {
    let (documented, doc) = documented().split_for_parts();
    // Serialized once: the document is the same for every request.
    let doc = openapi::finish(doc)
        .to_json()
        .map(axum::body::Bytes::from)
        .map_err(|e| e.to_string());
    let api = documented
        .merge(ui::router())
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move {
                    match doc {
                        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
                        Err(e) => {
                            ApiError::Internal(format!("the OpenAPI document does not serialize: {e}")).into_response()
                        }
                    }
                }
            }),
        )
        .fallback(|| async { ApiError::NotFound("no such endpoint; see /api/openapi.json".to_owned()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this endpoint does not take that method; see /api/openapi.json".to_owned())
        });
    let api = SECURITY_HEADERS.into_iter().fold(api, |api, (name, value)| {
        api.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    });
    // Hex from a UUID, so always a valid header value.
    let replica = HeaderValue::from_str(&state.replica).unwrap_or(HeaderValue::from_static("r-unknown"));
    let api = api.layer(SetResponseHeaderLayer::overriding(
        HeaderName::from_static("x-replica"),
        replica,
    ));
    api.layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(crate::limits::BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
        }).on_response(DefaultOnResponse::new().level(Level::INFO)))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_request(strip_client_request_id))
        .with_state(state)
}
