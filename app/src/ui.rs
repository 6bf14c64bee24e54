//! The browser UI, served by the app itself: one HTML page, an ES module per view and a
//! stylesheet, embedded in the binary (no front-end build step). It uses the same API as any client.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use crate::error::ApiError;
use crate::state::AppState;

/// `app/ui/`, as it was when the binary was built.
static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// One embedded file with the type its extension says, or 404.
fn file(name: &str) -> Response {
    let Some(found) = UI.get_file(name) else {
        return ApiError::NotFound(format!("no UI file {name:?}")).into_response();
    };
    let kind = match found.path().extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    ([(header::CONTENT_TYPE, kind)], found.contents()).into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route("/ui/{name}", get(|Path(name): Path<String>| async move { file(&name) }))
}
