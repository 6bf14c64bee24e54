//! Project chat over WebSockets, against the real PostgreSQL and Redis, with two app replicas
//! on loopback ports sharing them.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::TestApp;
use app::orgs::gate::NoGate;
use futures_util::{SinkExt, StreamExt};
use redis::AsyncCommands;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An org with a project whose owner (an org admin) and a member can chat.
struct Project {
    org: Uuid,
    project: Uuid,
    owner: String,
    member: String,
    admin: String,
}

async fn project(app: &TestApp) -> Project {
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let (member, member_body) = app.guest(&admin, org, "member").await;
    let project = app.create_project(&owner, org, "web").await;
    let key = member_body["me"]["user_key"].as_str().expect("key");
    app.add_member(&owner, org, project, key).await;
    Project {
        org,
        project,
        owner,
        member,
        admin,
    }
}

async fn open_chat(app: &TestApp, p: &Project, token: &str) -> Value {
    let (status, session) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{}/projects/{}/chats", p.org, p.project),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

/// The socket's handshake: the chat subprotocol, and the token as the other one.
fn socket_request(app: &TestApp, p: &Project, token: &str, session: &str) -> Request {
    let url = format!(
        "ws://{}/api/v1/orgs/{}/projects/{}/chats/{session}/ws",
        app.addr, p.org, p.project
    );
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("chat.v1, access_token.{token}").parse().expect("header"),
    );
    request
}

async fn connect(app: &TestApp, p: &Project, token: &str, session: &Value) -> Socket {
    let request = socket_request(app, p, token, session["id"].as_str().expect("session id"));
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["type"], "snapshot", "{first}");
    socket
}

/// The next JSON frame (panics after 5 s).
async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("open")
            .expect("frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("json frame"),
            Message::Close(frame) => {
                return json!({
                    "type": "closed",
                    "code": frame.as_ref().map(|f| u16::from(f.code)),
                    "reason": frame.map(|f| f.reason.to_string()),
                });
            }
            _ => continue,
        }
    }
}

/// Frames until one of `kind` arrives.
async fn until(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

async fn send(socket: &mut Socket, frame: &str) {
    socket.send(Message::Text(frame.into())).await.expect("sent");
}

async fn two_replicas(options: &PgConnectOptions, assistant: Option<&str>) -> (TestApp, TestApp) {
    let settings = |url: Option<&str>| crate::support::settings(options, json!({"assistant_url": url}));
    let a = TestApp::spawn_with(settings(assistant), Arc::new(NoGate)).await;
    let b = TestApp::spawn_with(settings(assistant), Arc::new(NoGate)).await;
    (a, b)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn fifty_concurrent_opens_on_two_replicas_leave_the_three_newest(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_replicas(&options, None).await;
    let p = project(&a).await;
    let opens = (0..50).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        open_chat(app, &p, &p.owner)
    });
    let mut sessions = futures_util::future::join_all(opens).await;
    sessions.sort_by(|x, y| {
        let at = |s: &Value| {
            time::OffsetDateTime::parse(
                s["opened_at"].as_str().unwrap_or_default(),
                &time::format_description::well_known::Rfc3339,
            )
            .ok()
        };
        at(x).cmp(&at(y)).then(x["id"].as_str().cmp(&y["id"].as_str()))
    });
    let newest: HashSet<String> = sessions[47..]
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let (_, active) = b
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}/projects/{}/chats", p.org, p.project),
            Some(&p.owner),
            None,
        )
        .await;
    let active: HashSet<String> = active
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(active.len(), 3);
    assert_eq!(active, newest, "exactly the three newest stay open");
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn actions_fan_out_across_replicas_with_the_assistants_reply(_: PgPoolOptions, options: PgConnectOptions) {
    let port = test_support::free_port();
    let mut mock = tokio::process::Command::new(env!("CARGO_BIN_EXE_mock-ai"))
        .env("MOCK_AI_LISTEN", format!("127.0.0.1:{port}"))
        .kill_on_drop(true)
        .spawn()
        .expect("mock-ai starts");
    let assistant = format!("http://127.0.0.1:{port}");
    crate::support::wait_until_up(&format!("{assistant}/healthz")).await;
    let (a, b) = two_replicas(&options, Some(&assistant)).await;
    let p = project(&a).await;
    let owner_session = open_chat(&a, &p, &p.owner).await;
    let member_session = open_chat(&b, &p, &p.member).await;
    let mut owner_a = connect(&a, &p, &p.owner, &owner_session).await;
    let mut owner_b = connect(&b, &p, &p.owner, &owner_session).await;
    let mut member_b = connect(&b, &p, &p.member, &member_session).await;

    send(&mut owner_a, r#"{"type":"action","action":"ready"}"#).await;
    for socket in [&mut owner_a, &mut owner_b, &mut member_b] {
        let counter = until(socket, "counter").await;
        assert_eq!(
            (
                counter["metric"].clone(),
                counter["value"].clone(),
                counter["seq"].clone()
            ),
            (json!("ready"), json!(1), json!(1))
        );
    }
    // The echo and reply reach every socket of the owner on that chat, on both replicas.
    for socket in [&mut owner_a, &mut owner_b] {
        let echo = until(socket, "echo").await;
        assert_eq!(
            (echo["action"].clone(), echo["reply"].clone()),
            (json!("ready"), json!("Great, marked as ready."))
        );
        assert_eq!(echo["assistant"], "available");
    }
    // The member's action updates the owner's counters; a poll vote too.
    let polls = format!("/api/v1/orgs/{}/projects/{}/polls", p.org, p.project);
    let open_poll = |template: &str| {
        b.call(
            Method::POST,
            &polls,
            Some(&p.member),
            Some(json!({ "template": template })),
        )
    };
    let (status, poll) = open_poll("ship-it").await;
    assert_eq!(status, StatusCode::CREATED, "{poll}");
    let (status, problem) = open_poll("ship-it-now").await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("no poll template \"ship-it-now\" in this org's chat.poll_templates; known: ship-it, sprint")
        )
    );
    assert_eq!(until(&mut owner_a, "poll").await["poll"]["question"], "Ship it today?");
    send(
        &mut member_b,
        &format!(
            r#"{{"type":"vote","poll":"{}","choice":"yes"}}"#,
            poll["id"].as_str().expect("id")
        ),
    )
    .await;
    let vote = until(&mut owner_a, "counter").await;
    assert_eq!(
        (vote["metric"].clone(), vote["seq"].clone()),
        (
            json!(format!("poll:{}:yes", poll["id"].as_str().expect("id"))),
            json!(2)
        )
    );

    // With the assistant down, chat goes on and says so.
    mock.kill().await.expect("stop mock-ai");
    send(&mut owner_b, r#"{"type":"action","action":"blocked"}"#).await;
    let echo = until(&mut owner_a, "echo").await;
    assert_eq!(echo["assistant"], "unavailable");
    // The member saw its own vote (seq 2) and now the owner's action (seq 3), in order.
    assert_eq!(until(&mut member_b, "counter").await["seq"], 2);
    assert_eq!(until(&mut member_b, "counter").await["seq"], 3);

    // A snapshot on request has every counter at the current sequence.
    send(&mut member_b, r#"{"type":"snapshot"}"#).await;
    let snapshot = until(&mut member_b, "snapshot").await;
    assert_eq!(snapshot["seq"], 3);
    assert_eq!(snapshot["counters"]["ready"], 1);
    assert_eq!(snapshot["counters"]["blocked"], 1);

    // The poll is deleted, by its project's owner only, and its votes with it: every viewer on
    // both replicas drops it, and a later vote for it is refused.
    let poll_id = poll["id"].as_str().expect("id");
    let this_poll = format!("{polls}/{poll_id}");
    let delete = |token| b.call(Method::DELETE, &this_poll, Some(token), None);
    let (status, problem) = delete(&p.member).await;
    assert_eq!(
        (status, problem["detail"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("only the project's owner or an org admin may delete a poll")
        )
    );
    assert_eq!(delete(&p.owner).await.0, StatusCode::NO_CONTENT);
    assert_eq!(delete(&p.owner).await.0, StatusCode::NOT_FOUND);
    for socket in [&mut owner_a, &mut member_b] {
        assert_eq!(until(socket, "poll_deleted").await["poll"], poll_id);
    }
    send(
        &mut member_b,
        &format!(r#"{{"type":"vote","poll":"{poll_id}","choice":"no"}}"#),
    )
    .await;
    assert_eq!(until(&mut member_b, "error").await["reason"], "unknown_choice");
    send(&mut member_b, r#"{"type":"snapshot"}"#).await;
    let snapshot = until(&mut member_b, "snapshot").await;
    assert_eq!(snapshot["polls"], json!([]));
    assert!(
        snapshot["counters"]
            .as_object()
            .is_some_and(|c| c.keys().all(|k| !k.starts_with("poll:"))),
        "{snapshot}"
    );
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn bad_frames_are_refused_and_nothing_of_them_is_stored(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let mut socket = connect(&app, &p, &p.owner, &session).await;
    let secret = "ship the secret roadmap on friday";
    let cases = [
        (secret.to_owned(), "free_text"),
        (format!(r#"{{"type":"message","text":"{secret}"}}"#), "free_text"),
        (r#"{"type":"action","action":"dance"}"#.to_owned(), "unknown_action"),
        (
            format!(r#"{{"type":"vote","poll":"{}","choice":"yes"}}"#, Uuid::new_v4()),
            "unknown_choice",
        ),
        // A NUL, which PostgreSQL's text cannot hold, is no choice either (not `unavailable`).
        (
            format!(r#"{{"type":"vote","poll":"{}","choice":"ye\u0000s"}}"#, Uuid::new_v4()),
            "unknown_choice",
        ),
        (r#"{"type":"action","#.to_owned(), "bad_json"),
        (
            format!(r#"{{"type":"action","action":"{}"}}"#, "x".repeat(2000)),
            "oversized",
        ),
    ];
    for (frame, reason) in &cases {
        send(&mut socket, frame).await;
        let error = until(&mut socket, "error").await;
        assert_eq!(error["reason"], *reason, "{frame:.60}");
        assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // Flooding: the default limit is 60 a minute with bursts of 6.
    let mut limited = false;
    for _ in 0..10 {
        send(&mut socket, r#"{"type":"action","action":"thumbs_up"}"#).await;
    }
    for _ in 0..30 {
        let frame = next_frame(&mut socket).await;
        if frame["type"] == "error" && frame["reason"] == "rate_limited" {
            limited = true;
            break;
        }
    }
    assert!(limited, "a flood is refused");

    let owner = PgPool::connect_with(options.clone()).await.expect("owner");
    let dump: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(t::text, ' '), '') FROM (
            SELECT row_to_json(c)::text AS t FROM chat_counters c
            UNION ALL SELECT row_to_json(s)::text FROM chat_sessions s
            UNION ALL SELECT row_to_json(q)::text FROM chat_polls q) AS all_rows",
    )
    .fetch_one(&owner)
    .await
    .expect("dump");
    assert!(
        !dump.contains("roadmap") && !dump.contains("dance"),
        "no free text is stored: {dump}"
    );
    let metrics: Vec<String> = sqlx::query_scalar("SELECT metric FROM chat_counters ORDER BY metric")
        .fetch_all(&owner)
        .await
        .expect("metrics");
    assert_eq!(metrics, ["_seq", "thumbs_up"]);
    let text = app.metrics_text().await;
    for reason in [
        "free_text",
        "unknown_action",
        "unknown_choice",
        "bad_json",
        "oversized",
        "rate_limited",
    ] {
        assert!(
            text.contains(&format!("app_chat_frames_rejected_total{{reason=\"{reason}\"}}")),
            "{reason}"
        );
    }
    app.stop().await;
}

/// A member's chat open on both replicas: where the closing tests start.
struct OnBoth {
    a: TestApp,
    b: TestApp,
    p: Project,
    /// The member's `guest-NNNN`.
    key: String,
    sockets: [Socket; 2],
}

async fn member_on_both_replicas(options: &PgConnectOptions) -> OnBoth {
    let (a, b) = two_replicas(options, None).await;
    let p = project(&a).await;
    let (_, me) = a.call(Method::GET, "/api/v1/me", Some(&p.member), None).await;
    assert_eq!(me["kind"], "guest");
    let key = me["user_key"].as_str().expect("user key").to_owned();
    let session = open_chat(&a, &p, &p.member).await;
    let sockets = [
        connect(&a, &p, &p.member, &session).await,
        connect(&b, &p, &p.member, &session).await,
    ];
    OnBoth { a, b, p, key, sockets }
}

impl OnBoth {
    /// Both sockets get a close frame with `reason` within a second of `started`.
    async fn closed_within_a_second(mut self, reason: &str, started: Instant) {
        for socket in &mut self.sockets {
            let closed = until(socket, "closed").await;
            assert_eq!(closed["reason"], reason);
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "closed in {:?}",
            started.elapsed()
        );
        self.a.stop().await;
        self.b.stop().await;
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn revoking_a_token_closes_its_sockets_on_every_replica_within_a_second(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let both = member_on_both_replicas(&options).await;
    let claims: Value = {
        let payload = both.p.member.split('.').nth(1).expect("payload");
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("b64");
        serde_json::from_slice(&bytes).expect("claims")
    };
    let started = Instant::now();
    let (status, _) = both
        .b
        .call(
            Method::POST,
            "/api/v1/auth/revoke",
            Some(&both.p.admin),
            Some(json!({"jti": claims["jti"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    both.closed_within_a_second("token revoked: sign in again", started)
        .await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_fourth_chat_closes_the_oldest_and_its_sockets(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_replicas(&options, None).await;
    let p = project(&a).await;
    let oldest = open_chat(&a, &p, &p.owner).await;
    let mut socket = connect(&b, &p, &p.owner, &oldest).await;
    open_chat(&a, &p, &p.owner).await;
    open_chat(&b, &p, &p.owner).await;
    open_chat(&a, &p, &p.owner).await;
    let closed = until(&mut socket, "closed").await;
    assert_eq!(
        closed["reason"],
        "session closed: a newer chat replaced it, or it was closed"
    );
    let request = socket_request(&a, &p, &p.owner, oldest["id"].as_str().expect("id"));
    assert!(
        tokio_tungstenite::connect_async(request).await.is_err(),
        "a closed session cannot be joined"
    );
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_slow_consumer_is_dropped_and_the_others_keep_up(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let member_session = open_chat(&app, &p, &p.member).await;
    let _slow = connect(&app, &p, &p.owner, &session).await; // never read again
    let mut fast = connect(&app, &p, &p.member, &member_session).await;

    // Frames as another replica would publish them: enough to fill the slow socket's kernel
    // buffers and then its queue.
    let client = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let channel = format!("chat:p:{}", p.project);
    let padding = "x".repeat(900);
    let total = 6000;
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < total {
            let frame = next_frame(&mut fast).await;
            if frame["type"] == "counter" {
                seen += 1;
            }
        }
        seen
    });
    for i in 0..total {
        let frame =
            json!({"type": "counter", "seq": i, "metric": "ready", "value": i, "pad": padding, "sent_at_us": 0});
        let _: i64 = conn.publish(&channel, frame.to_string()).await.expect("publish");
    }
    assert_eq!(
        reader.await.expect("fast reader"),
        total,
        "the fast client got every frame"
    );
    let mut dropped = false;
    for _ in 0..100 {
        if app.state.hub.connections() == 1 {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(dropped, "the slow consumer was disconnected");
    let text = app.metrics_text().await;
    assert!(text.contains("app_chat_slow_consumers_total 1"), "{text}");
    app.stop().await;
}

/// A socket is registered for the fan-out before its snapshot is read, so it misses nothing;
/// what is fanned out meanwhile must still reach the client after the snapshot, not before.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn frames_published_while_a_socket_opens_follow_its_snapshot(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let client = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let channel = format!("chat:p:{}", p.project);
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let frame = json!({"type": "counter", "seq": i, "metric": "ready", "value": i, "sent_at_us": 0});
                let _: i64 = conn.publish(&channel, frame.to_string()).await.expect("publish");
                i += 1;
            }
            i
        }
    });
    for _ in 0..20 {
        // `connect` fails unless the first frame is the snapshot.
        let mut socket = connect(&app, &p, &p.owner, &session).await;
        until(&mut socket, "counter").await;
        socket.close(None).await.expect("close");
        while app.state.hub.connections() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(publisher.await.expect("publisher") > 0);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_client_that_stops_reading_is_dropped_not_waited_for(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let stalled = connect(&app, &p, &p.owner, &session).await; // never read again
    // Far more than loopback's kernel buffers hold (a few MiB each way): the server's send to
    // this socket then waits, and must not wait forever.
    let client = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let channel = format!("chat:p:{}", p.project);
    let padding = "x".repeat(60 * 1024);
    let started = Instant::now();
    for i in 0..600 {
        let frame = json!({"type": "counter", "seq": i, "metric": "ready", "value": i, "pad": padding});
        let _: i64 = conn.publish(&channel, frame.to_string()).await.expect("publish");
    }
    let mut dropped = false;
    while started.elapsed() < Duration::from_secs(15) {
        if app.state.hub.connections() == 0 {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dropped,
        "the stalled socket was dropped (it held the server for {:?})",
        started.elapsed()
    );
    drop(stalled);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn one_user_cannot_open_sockets_without_bound(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let mut held = Vec::new();
    for _ in 0..app::limits::MAX_SOCKETS_PER_USER {
        held.push(connect(&app, &p, &p.owner, &session).await);
    }
    let request = socket_request(&app, &p, &p.owner, session["id"].as_str().expect("session id"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        }
        other => panic!("the 17th socket was not refused: {:?}", other.map(|(_, r)| r.status())),
    }
    // Another user is not held back by this one.
    let member_session = open_chat(&app, &p, &p.member).await;
    let _other = connect(&app, &p, &p.member, &member_session).await;
    // Closing one makes room again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _again = connect(&app, &p, &p.owner, &session).await;
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn concurrent_handshakes_of_one_user_never_pass_the_cap_on_either_replica(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let (a, b) = two_replicas(&options, None).await;
    let p = project(&a).await;
    let session = open_chat(&a, &p, &p.owner).await;
    let id = session["id"].as_str().expect("session id");
    let cap = app::limits::MAX_SOCKETS_PER_USER;
    // 60 handshakes at once on each replica, all held open until every one has its answer.
    let attempts = (0..120).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let request = socket_request(app, &p, &p.owner, id);
        async move { (i % 2, tokio_tungstenite::connect_async(request).await) }
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut opened = [0, 0];
    let mut refused = [0, 0];
    let mut held = Vec::new();
    for (replica, result) in results {
        match result {
            Ok((socket, _)) => {
                opened[replica] += 1;
                held.push(socket);
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
                refused[replica] += 1;
            }
            Err(e) => panic!("a handshake failed otherwise: {e}"),
        }
    }
    assert_eq!(opened, [cap, cap], "101s per replica (refused: {refused:?})");
    // What each replica counts once the sockets run: never more than the cap.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((a.state.hub.connections(), b.state.hub.connections()), (cap, cap));
    // Closing them gives the places back.
    drop(held);
    let started = Instant::now();
    while a.state.hub.connections() + b.state.hub.connections() > 0 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _again = connect(&a, &p, &p.owner, &session).await;
    a.stop().await;
    b.stop().await;
}

/// The close frame's code and reason, or `None` when the connection was reset first (panics
/// after 5 s, or on another frame kind than refusals and replies).
async fn closed_or_reset(socket: &mut Socket) -> Option<(u16, String)> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("closed within 5 s")
        {
            Some(Ok(Message::Close(frame))) => {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

/// Rate-limit scripts Redis has run (`EVALSHA` and `EVAL` calls, from `INFO commandstats`).
async fn scripts_run(redis: &crate::support::servers::OwnRedis) -> u64 {
    let client = redis::Client::open(redis.url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("info");
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| l.split("calls=").nth(1)?.split(',').next()?.parse::<u64>().ok())
        .sum()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_flood_of_refused_frames_closes_its_sockets_without_a_redis_call_per_frame(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    // A Redis of the test's own, so every script it runs is this test's.
    let redis = crate::support::servers::OwnRedis::start();
    let settings = crate::support::settings(&options, json!({"redis_url": redis.url()}));
    let app = TestApp::spawn_with(settings, Arc::new(NoGate)).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.member).await;
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(connect(&app, &p, &p.member, &session).await);
    }
    let before = scripts_run(&redis).await;
    // 4 x 500 actions as fast as the sockets take them: a burst of 6 passes the shared bucket.
    for socket in &mut sockets {
        for _ in 0..500 {
            if socket
                .send(Message::Text(r#"{"type":"action","action":"ready"}"#.into()))
                .await
                .is_err()
            {
                break;
            }
        }
    }
    // Each socket is closed: with its 4004 close frame, or reset where the frames the client
    // still had in flight were unread when the server let go of the connection.
    for socket in &mut sockets {
        if let Some((code, reason)) = closed_or_reset(socket).await {
            assert_eq!(
                (code, reason.as_str()),
                (
                    4004,
                    "too many refused frames: follow the protocol and its rate limit, then reconnect"
                )
            );
        }
    }
    let started = Instant::now();
    while app.state.hub.connections() > 0 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.state.hub.connections(),
        0,
        "the server closed every flooding socket"
    );
    let run = scripts_run(&redis).await - before;
    assert!(run <= 20, "{run} rate-limit scripts for 2,000 frames on 4 sockets");
    eprintln!("2,000 frames on 4 sockets: {run} rate-limit scripts in Redis, every socket closed");
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_echo_reaches_only_the_chat_it_belongs_to_on_every_replica(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_replicas(&options, None).await;
    let p = project(&a).await;
    let first = open_chat(&a, &p, &p.member).await;
    let second = open_chat(&a, &p, &p.member).await;
    // Each chat open on both replicas.
    let mut on_first = [
        connect(&a, &p, &p.member, &first).await,
        connect(&b, &p, &p.member, &first).await,
    ];
    let mut on_second = [
        connect(&a, &p, &p.member, &second).await,
        connect(&b, &p, &p.member, &second).await,
    ];
    send(&mut on_first[0], r#"{"type":"action","action":"ready"}"#).await;
    for socket in &mut on_first {
        let echo = until(socket, "echo").await;
        assert_eq!(echo["session"], first["id"], "{echo}");
    }
    // The other chat sees the counter (every viewer of the project does), and no echo.
    for socket in &mut on_second {
        let counter = until(socket, "counter").await;
        assert_eq!(counter["metric"], "ready");
        let quiet = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                let frame = next_frame(socket).await;
                assert_ne!(frame["type"], "echo", "another chat's echo: {frame}");
            }
        })
        .await;
        assert!(quiet.is_err(), "nothing but the echo could end the wait");
    }
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn removing_a_member_closes_their_sockets_on_every_replica(_: PgPoolOptions, options: PgConnectOptions) {
    let both = member_on_both_replicas(&options).await;
    let started = Instant::now();
    let path = format!(
        "/api/v1/orgs/{}/projects/{}/members/{}",
        both.p.org, both.p.project, both.key
    );
    let (status, body) = both.b.call(Method::DELETE, &path, Some(&both.p.owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Their chats are closed in the database too: a replica that missed the event finds them so.
    let pool = PgPoolOptions::new().connect_with(options.clone()).await.expect("pool");
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_sessions s JOIN users u ON u.id = s.user_id WHERE u.user_key = $1 AND s.closed_at IS NULL",
    )
    .bind(&both.key)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(open, 0, "the removed member's chats are closed");
    both.closed_within_a_second("removed from the project: ask its owner to add you again", started)
        .await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_socket_that_missed_its_removal_reads_and_counts_nothing(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&p.member), None).await;
    let user: Uuid = me["user"].as_str().expect("user id").parse().expect("uuid");
    let session = open_chat(&app, &p, &p.member).await;
    let mut stale = connect(&app, &p, &p.member, &session).await;
    let mut owner_session = connect(&app, &p, &p.owner, &open_chat(&app, &p, &p.owner).await).await;
    // The removal as a replica that lost its Redis publish leaves it: in the database only.
    let pool = PgPoolOptions::new().connect_with(options.clone()).await.expect("pool");
    sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND user_id = $2")
        .bind(p.project)
        .bind(user)
        .execute(&pool)
        .await
        .expect("removed");
    send(&mut stale, r#"{"type":"action","action":"ready"}"#).await;
    let closed = until(&mut stale, "closed").await;
    assert_eq!(
        closed["reason"],
        "removed from the project: ask its owner to add you again"
    );
    // Nothing was counted: the owner's snapshot shows no `ready`.
    send(&mut owner_session, r#"{"type":"snapshot"}"#).await;
    let snapshot = until(&mut owner_session, "snapshot").await;
    assert!(snapshot["counters"].get("ready").is_none(), "{snapshot}");
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_token_travels_as_a_subprotocol_never_in_the_url(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.owner).await;
    let id = session["id"].as_str().expect("session id");
    let refused = |request| async move {
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap_or_default();
                (response.status(), body)
            }
            other => panic!("not refused: {:?}", other.map(|(_, r)| r.status())),
        }
    };
    // The old form, with the token in the query string (which access logs record).
    let url = format!(
        "ws://{}/api/v1/orgs/{}/projects/{}/chats/{id}/ws?access_token={}",
        app.addr, p.org, p.project, p.owner
    );
    let (status, body) = refused(url.into_client_request().expect("request")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("as the WebSocket subprotocol `access_token.<token>`"),
        "{body}"
    );
    // The token without the chat subprotocol: the server could select none.
    let mut request = socket_request(&app, &p, &p.owner, id);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("access_token.{}", p.owner).parse().expect("header"),
    );
    let (status, _) = refused(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Not a WebSocket opening at all: a plain GET, and one of another WebSocket version.
    let path = format!("/api/v1/orgs/{}/projects/{}/chats/{id}/ws", p.org, p.project);
    let (status, body) = app.call(Method::GET, &path, Some(&p.owner), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"], "not a WebSocket opening request: send `Connection: Upgrade`",
        "{body}"
    );
    let mut request = socket_request(&app, &p, &p.owner, id);
    request
        .headers_mut()
        .insert("sec-websocket-version", "8".parse().expect("header"));
    let (status, body) = refused(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("send `Sec-WebSocket-Version: 13`"), "{body}");
    let _ok = connect(&app, &p, &p.owner, &session).await;
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn one_rate_limit_per_user_holds_over_every_socket_and_replica(_: PgPoolOptions, options: PgConnectOptions) {
    let (a, b) = two_replicas(&options, None).await;
    let p = project(&a).await;
    let mut sockets = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        // Three chats a user may hold; the others open more sockets on the same ones.
        let session = if i < 3 {
            open_chat(app, &p, &p.member).await
        } else {
            sockets_session(&sockets)
        };
        sockets.push((connect(app, &p, &p.member, &session).await, session));
    }
    // 30 actions in well under a second, three on each of ten sockets over two replicas: the
    // default 60 a minute allows a burst of 6 (and one more a second).
    let started = Instant::now();
    for (socket, _) in &mut sockets {
        for _ in 0..3 {
            send(socket, r#"{"type":"action","action":"ready"}"#).await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // What was counted, read by another user (whose bucket is their own).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let owner_session = open_chat(&a, &p, &p.owner).await;
    let mut owner = connect(&a, &p, &p.owner, &owner_session).await;
    send(&mut owner, r#"{"type":"snapshot"}"#).await;
    let snapshot = until(&mut owner, "snapshot").await;
    let counted = snapshot["counters"]["ready"].as_i64().unwrap_or(0);
    assert!(
        (6..=6 + elapsed.ceil() as i64).contains(&counted),
        "{counted} actions counted of 30 sent in {elapsed:.2} s"
    );
    // Snapshot requests draw from the same bucket.
    let (socket, _) = &mut sockets[0];
    for _ in 0..10 {
        send(socket, r#"{"type":"snapshot"}"#).await;
    }
    let limited = until(socket, "error").await;
    assert_eq!(limited["reason"], "rate_limited", "{limited}");
    a.stop().await;
    b.stop().await;
}

/// A session of the sockets opened so far, for a socket that joins it.
fn sockets_session(sockets: &[(Socket, Value)]) -> Value {
    sockets[sockets.len() % 3].1.clone()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn revoking_a_user_closes_their_sockets_on_every_replica(_: PgPoolOptions, options: PgConnectOptions) {
    let both = member_on_both_replicas(&options).await;
    let started = Instant::now();
    let path = format!("/api/v1/orgs/{}/users/{}/revoke", both.p.org, both.key);
    let (status, body) = both.b.call(Method::POST, &path, Some(&both.p.owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    both.closed_within_a_second("token revoked: sign in again", started)
        .await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn hostile_frames_get_refusals_and_the_socket_keeps_working(_: PgPoolOptions, options: PgConnectOptions) {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let app = TestApp::spawn(&options).await;
    let p = project(&app).await;
    let session = open_chat(&app, &p, &p.member).await;
    let mut socket = connect(&app, &p, &p.member, &session).await;
    // Frames of every kind of wrong: any text, JSON of the right shape with hostile values,
    // and binary. Deterministic, 200 of them.
    let frames = prop_oneof![
        any::<String>(),
        (any::<String>(), any::<String>())
            .prop_map(|(kind, action)| json!({"type": kind, "action": action}).to_string()),
        (any::<String>(), any::<String>())
            .prop_map(|(poll, choice)| json!({"type": "vote", "poll": poll, "choice": choice}).to_string()),
        Just(r#"{"type":"action","action":"ready","extra":"\u0000"}"#.to_owned()),
        (1usize..70_000).prop_map(|n| "x".repeat(n)),
    ];
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]));
    // Each frame gets a refusal; the socket stays open through fewer refusals in a row than
    // closes it (`REFUSALS_BEFORE_CLOSE`), so a fresh one takes each run of them.
    let per_socket = app::chat::socket::REFUSALS_BEFORE_CLOSE - 1;
    let mut sent = 0;
    for _ in 0..200 {
        let frame = frames.new_tree(&mut runner).expect("a frame").current();
        if frame.len() > 64 * 1024 {
            // Larger than the server takes: it closes the socket, as it should; open another.
            send(&mut socket, &frame).await;
            socket = connect(&app, &p, &p.member, &session).await;
            sent = 0;
            continue;
        }
        if sent == per_socket {
            socket = connect(&app, &p, &p.member, &session).await;
            sent = 0;
        }
        send(&mut socket, &frame).await;
        sent += 1;
    }
    socket = connect(&app, &p, &p.member, &session).await;
    socket
        .send(Message::Binary(vec![0, 159, 146, 150].into()))
        .await
        .expect("sent");
    // Still a working socket: a snapshot request gets a snapshot (or, past the rate limit, a
    // refusal), never a dropped connection.
    tokio::time::sleep(Duration::from_secs(1)).await;
    send(&mut socket, r#"{"type":"snapshot"}"#).await;
    loop {
        let frame = next_frame(&mut socket).await;
        assert_ne!(frame["type"], "closed", "{frame}");
        if frame["type"] == "snapshot" || frame["reason"] == "rate_limited" {
            break;
        }
    }
    // Past the bound, refusals close the socket with 4004.
    for _ in 0..app::chat::socket::REFUSALS_BEFORE_CLOSE {
        send(&mut socket, "not json").await;
    }
    let closed = until(&mut socket, "closed").await;
    assert_eq!(closed["code"], 4004, "{closed}");
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_replica_shutting_down_serves_through_its_drain_then_closes_sockets_with_1001(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let settings = crate::support::settings(&options, json!({"shutdown_drain_secs": 1, "shutdown_grace_secs": 3}));
    let mut a = TestApp::spawn_with(settings, Arc::new(NoGate)).await;
    let p = project(&a).await;
    let session = open_chat(&a, &p, &p.owner).await;
    let mut socket = connect(&a, &p, &p.owner, &session).await;

    let signalled = Instant::now();
    a.signal_stop();
    let (status, readiness) = a.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, readiness["draining"].clone()),
        (StatusCode::SERVICE_UNAVAILABLE, json!(true))
    );
    // Still serving through the drain: requests, and the open socket.
    assert_eq!(
        a.call(Method::GET, "/api/v1/me", Some(&p.owner), None).await.0,
        StatusCode::OK
    );
    send(&mut socket, r#"{"type":"action","action":"ready"}"#).await;
    assert_eq!(until(&mut socket, "counter").await["metric"], "ready");

    let close = loop {
        match tokio::time::timeout(Duration::from_secs(3), socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("a close frame, not {other:?}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (1001, "server shutting down: reconnect")
    );
    assert!(
        signalled.elapsed() >= Duration::from_secs(1),
        "not before the drain ends"
    );
    let addr = a.addr;
    a.stop().await;
    assert!(signalled.elapsed() < Duration::from_secs(3), "within the grace");
    assert!(TcpStream::connect(addr).await.is_err(), "no longer listening");
}
