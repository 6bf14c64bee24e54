//! The project's assistant: the mock "AI" (`mock-ai` binary) over internal HTTP, called with a
//! short timeout. When it is down or slow, chat goes on and the echo says it is unavailable.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const TIMEOUT: Duration = Duration::from_millis(300);

#[derive(Debug, Clone)]
pub struct Assistant {
    http: reqwest::Client,
    url: Option<String>,
}

#[derive(Serialize)]
struct Ask<'a> {
    action: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    text: String,
}

impl Assistant {
    /// `url`: the mock AI's base URL (`APP_ASSISTANT_URL`); none means always unavailable.
    /// Fails when no HTTP client with the timeout can be built: a client without one would
    /// hold up every chat action as long as the assistant does.
    pub fn new(url: Option<String>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self {
            http,
            url: url.map(|u| u.trim_end_matches('/').to_owned()),
        })
    }

    /// The canned reply to `action`, or `None` when the assistant cannot answer in time.
    pub async fn reply(&self, action: &str) -> Option<String> {
        let url = self.url.as_ref()?;
        let response = self
            .http
            .post(format!("{url}/v1/reply"))
            .json(&Ask { action })
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json::<Answer>().await.ok().map(|a| a.text)
    }
}
