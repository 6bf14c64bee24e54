//! Answers shaped like the Kubernetes API server's, for the stand-ins that play it (none can run
//! on these machines): a `kube::Client` over a `tower-test` pair, as kube-rs tests itself.

use http::{Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

/// The test's end of the stand-in: each request the client sent, and where to answer it.
pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

/// A client whose every request the test answers through the [`Handle`].
pub fn scripted() -> (kube::Client, Handle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(service, "default"), handle)
}

/// A JSON answer with `status`, as the API server sends objects and `Status` errors.
pub fn reply(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("response")
}

/// A `Status` error, e.g. `status(404, "NotFound", "namespaces \"x\" not found")`.
pub fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
    reply(
        StatusCode::from_u16(code).expect("an HTTP status code"),
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}),
    )
}
