//! The browser UI, served by the app itself: one HTML page, an ES module per view and a
//! stylesheet, embedded in the binary (no front-end build step). It uses the same API as any client.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const INDEX: &str = include_str!("../ui/index.html");
const SCRIPT: &str = include_str!("../ui/app.js");
const SETTINGS: &str = include_str!("../ui/settings.js");
const ADMIN: &str = include_str!("../ui/admin.js");
const INVITES: &str = include_str!("../ui/invites.js");
const MEMBERS: &str = include_str!("../ui/members.js");
const STYLE: &str = include_str!("../ui/app.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response() }),
        )
        .route(
            "/ui/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT) }),
        )
        .route(
            "/ui/settings.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SETTINGS) }),
        )
        .route(
            "/ui/admin.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], ADMIN) }),
        )
        .route(
            "/ui/invites.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], INVITES) }),
        )
        .route(
            "/ui/members.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], MEMBERS) }),
        )
        .route(
            "/ui/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
}
