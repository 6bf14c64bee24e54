//! The mock "AI": answers each canned chat action with a deterministic canned reply over
//! internal HTTP (`POST /v1/reply {"action": "ready"}` → `{"text": "..."}`). Stands in for a real
//! assistant; the app treats it as optional.

use app::domain::Action;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Ask {
    action: String,
}

#[derive(Serialize)]
struct Answer {
    text: &'static str,
}

/// The same action always gets the same reply; poll votes come as `vote:<choice>`.
fn reply_to(asked: String) -> &'static str {
    if asked.starts_with("vote:") {
        return "Thanks for voting.";
    }
    match Action::try_from(asked) {
        Ok(Action::ThumbsUp) => "Glad to hear it.",
        Ok(Action::ThumbsDown) => "Noted. What would make it better?",
        Ok(Action::Ready) => "Great, marked as ready.",
        Ok(Action::Blocked) => "Sorry you are blocked. Who can help unblock it?",
        Ok(Action::Review) => "Review requested. A teammate will take a look.",
        Ok(Action::Deployed) => "Deployed. Keep an eye on the dashboards.",
        Ok(Action::TestsGreen) => "All green. Nice work.",
        Err(_) => "I only understand canned actions.",
    }
}

async fn reply(Json(ask): Json<Ask>) -> Json<Answer> {
    Json(Answer {
        text: reply_to(ask.action),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let listen = std::env::var("MOCK_AI_LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".to_owned());
    let app = Router::new()
        .route("/v1/reply", post(reply))
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("mock-ai listening on {listen}");
    axum::serve(listener, app).await
}
