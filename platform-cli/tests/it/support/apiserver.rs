//! Shared by the tests that stand in for the Kubernetes API server (none runs on these machines).

use http::{Response, StatusCode};
use kube::client::Body;
use serde_json::Value;

/// A JSON answer with `status`, as the API server sends objects and `Status` errors.
pub fn reply(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("response")
}
