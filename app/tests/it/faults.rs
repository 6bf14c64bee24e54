//! Faults survived, against a PostgreSQL cluster and a Redis server of the test's own (so they
//! can be restarted; see `support/servers.rs`), with two replicas under a bounded load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::TestApp;
use crate::support::servers::{OwnRedis, PgCluster};
use app::orgs::gate::NoGate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

/// Two replicas on `cluster` and `redis`, migrated, with committed orgs (one per load client,
/// so the load stays within each org's project quota), their admin guests and quotas raised.
struct Fixture {
    a: TestApp,
    b: TestApp,
    owner: PgPool,
    /// The first of `tenants`.
    org: Uuid,
    admin: String,
    /// Every org, with its admin guest's token.
    tenants: Vec<(Uuid, String)>,
}

async fn fixture(cluster: &PgCluster, redis: &OwnRedis) -> Fixture {
    fixture_with(cluster, &redis.url(), json!({})).await
}

async fn fixture_with(cluster: &PgCluster, redis_url: &str, overrides: Value) -> Fixture {
    let options: PgConnectOptions = cluster.url().parse().expect("url");
    let owner = PgPool::connect_with(options.clone()).await.expect("owner connects");
    app::db::MIGRATOR.run(&owner).await.expect("migrated");
    let settings = || {
        let mut all = json!({"redis_url": redis_url, "database_max_connections": 4});
        for (k, v) in overrides.as_object().into_iter().flatten() {
            all[k] = v.clone();
        }
        crate::support::settings(&options, all)
    };
    let a = TestApp::spawn_with(settings(), Arc::new(NoGate)).await;
    let b = TestApp::spawn_with(settings(), Arc::new(NoGate)).await;
    let platform = a.admin_token().await;
    let mut tenants = Vec::new();
    for slug in ["acme", "globex", "initech", "umbrella"] {
        let org = a.create_org(&platform, slug).await;
        let (admin, _) = a.guest(&platform, org, "admin").await;
        let path = format!("/api/v1/orgs/{org}/configs/quotas");
        let response = a
            .http
            .put(a.url(&path))
            .bearer_auth(&platform)
            .header("If-Match", "\"1\"")
            .json(&json!({"value": {"projects": 500, "guests": 500, "invites": 100, "polls_per_project": 50}, "reason": "load"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        tenants.push((org, admin));
    }
    let (org, admin) = tenants[0].clone();
    Fixture {
        a,
        b,
        owner,
        org,
        admin,
        tenants,
    }
}

impl Fixture {
    async fn stop(self) {
        self.a.stop().await;
        self.b.stop().await;
    }
}

/// What the load saw.
#[derive(Debug, Default)]
struct Seen {
    /// Status of every answer, with what was asked.
    answers: Vec<(StatusCode, String)>,
    /// Projects whose creation was acknowledged (201).
    created: Vec<String>,
}

/// Four clients, each in an org of its own, alternating a write (create a project) and a read
/// (list them) over both replicas, until `stop` or 400 requests (200 projects, well inside the
/// quota of 500 even over two rounds); every request has a 10 s timeout, so the load ends by
/// itself.
async fn load(f: &Fixture, round: &str, stop: Arc<AtomicBool>) -> Seen {
    let workers = (0..4).map(|worker| {
        let app = if worker % 2 == 0 { &f.a } else { &f.b };
        let (org, token) = f.tenants[worker].clone();
        let (http, base, stop) = (app.http.clone(), app.url(""), Arc::clone(&stop));
        async move {
            let mut seen = Seen::default();
            let mut i = 0;
            while !stop.load(Ordering::Acquire) && i < 400 {
                i += 1;
                let name = format!("{round}w{worker}-{i}");
                let request = if i % 2 == 0 {
                    http.post(format!("{base}/api/v1/orgs/{org}/projects"))
                        .json(&json!({"name": name}))
                } else {
                    http.get(format!("{base}/api/v1/orgs/{org}/projects"))
                };
                let response = request
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .expect("the replica answers");
                let status = response.status();
                if status == StatusCode::CREATED {
                    seen.created.push(name.clone());
                }
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    assert_eq!(response.headers()["retry-after"], "1", "a 503 says when to retry");
                }
                seen.answers.push((
                    status,
                    if i % 2 == 0 {
                        format!("POST {name}")
                    } else {
                        "GET".to_owned()
                    },
                ));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        }
    });
    let mut all = Seen::default();
    for seen in futures_util::future::join_all(workers).await {
        all.answers.extend(seen.answers);
        all.created.extend(seen.created);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_answers_503_never_500_and_loses_nothing_acknowledged() {
    let cluster = Arc::new(PgCluster::create());
    let redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn({
        let (stop, cluster) = (Arc::clone(&stop), Arc::clone(&cluster));
        async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            let restarted = Instant::now();
            tokio::task::spawn_blocking(move || cluster.restart_fast())
                .await
                .expect("restarted");
            let took = restarted.elapsed();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            stop.store(true, Ordering::Release);
            took
        }
    });
    let seen = load(&f, "", stop).await;
    let restart_took = running.await.expect("restart");

    let count = |wanted: StatusCode| seen.answers.iter().filter(|(s, _)| *s == wanted).count();
    eprintln!(
        "{} requests over a {restart_took:?} restart: {} ok, {} created, {} 503",
        seen.answers.len(),
        count(StatusCode::OK),
        count(StatusCode::CREATED),
        count(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(
        count(StatusCode::CREATED) > 10,
        "the load ran before and after the restart"
    );

    // Both replicas serve again.
    for app in [&f.a, &f.b] {
        let (status, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{}/projects", f.org),
                Some(&f.admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    only_2xx_and_503_and_nothing_lost(&f, &seen).await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_change_announced_while_postgres_is_down_is_served_seconds_after_it_is_back() {
    let cluster = PgCluster::create();
    let redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let version: i64 = sqlx::query_scalar(
        "UPDATE service_configs SET value_json = '\"healed\"', version = version + 1
          WHERE org_id = $1 AND key = 'ui.banner' RETURNING version",
    )
    .bind(f.org)
    .fetch_one(&f.owner)
    .await
    .expect("changed behind the replicas' backs");
    cluster.stop();
    // The announcement arrives while neither replica can read the change.
    let mut publisher = redis::Client::open(redis.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(format!("config:{}:ui.banner", f.org))
        .arg(format!("version={version}"))
        .query_async(&mut publisher)
        .await
        .expect("published");
    tokio::time::sleep(Duration::from_secs(1)).await;
    for app in [&f.a, &f.b] {
        assert!(
            app.state.configs.version(f.org, "ui.banner") < version,
            "not served before the database is back"
        );
    }
    let back = Instant::now();
    cluster.start();
    for app in [&f.a, &f.b] {
        while app.state.configs.version(f.org, "ui.banner") < version {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "served within seconds of the database's start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!(
        "both replicas serve the change {:?} after PostgreSQL is started again",
        back.elapsed()
    );
    f.stop().await;
}

/// `GET /api/v1/me` with `token` on `app`: its status.
async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/v1/me", Some(token), None).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_without_its_data_undoes_no_revocation() {
    let cluster = PgCluster::create();
    let mut redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let platform = f.a.admin_token().await;
    let (signed_out, _) = f.a.guest(&platform, f.org, "member").await;
    let (locked_out, body) = f.a.guest(&platform, f.org, "member").await;
    let key = body["me"]["user_key"].as_str().expect("key").to_owned();
    assert_eq!(
        f.a.call(Method::POST, "/api/v1/auth/sign-out", Some(&signed_out), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let revoke_user = format!("/api/v1/orgs/{}/users/{key}/revoke", f.org);
    assert_eq!(
        f.b.call(Method::POST, &revoke_user, Some(&f.admin), None).await.0,
        StatusCode::NO_CONTENT
    );

    // A new Redis pod without a volume: empty.
    redis.restart(false);
    let back = Instant::now();
    let mut answers = Vec::new();
    loop {
        let now: Vec<StatusCode> = vec![
            me(&f.a, &signed_out).await,
            me(&f.b, &signed_out).await,
            me(&f.a, &locked_out).await,
            me(&f.b, &locked_out).await,
        ];
        answers.extend(now.iter().copied());
        if now.iter().all(|s| *s == StatusCode::UNAUTHORIZED) {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(10), "answers settle: {answers:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        answers
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(s)),
        "a revoked token is refused or the check is unavailable, never accepted: {answers:?}"
    );
    // The platform admin's fresh token still works: the restore revoked nothing else.
    assert_eq!(me(&f.a, &f.a.admin_token().await).await, StatusCode::OK);
    eprintln!("revocations restored {:?} after Redis came back empty", back.elapsed());
    f.stop().await;
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A chat socket of `token` on `app` for `session`, past its first snapshot.
async fn chat_socket(app: &TestApp, org: Uuid, project: Uuid, token: &str, session: &str) -> Socket {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "ws://{}/api/v1/orgs/{org}/projects/{project}/chats/{session}/ws",
        app.addr
    );
    let mut request = url.into_client_request().expect("request");
    let protocols = format!("chat.v1, access_token.{token}").parse().expect("header");
    request.headers_mut().insert("sec-websocket-protocol", protocols);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    let first = socket.next().await.expect("a frame").expect("frame");
    assert!(first.to_text().expect("text").contains("\"snapshot\""), "{first}");
    socket
}

/// The close frame's code and reason, waiting at most `within`.
async fn closed_within(socket: &mut Socket, within: Duration) -> (u16, String) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return (frame.code.into(), frame.reason.to_string()),
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame within {within:?}: {other:?}"),
        }
    }
}

/// An org's project with a member who has a chat open.
async fn chatting_member(f: &Fixture) -> (Uuid, String, Value) {
    let platform = f.a.admin_token().await;
    let (member, body) = f.a.guest(&platform, f.org, "member").await;
    let project = f.a.create_project(&f.admin, f.org, "web").await;
    f.a.add_member(&f.admin, f.org, project, body["me"]["user_key"].as_str().expect("key"))
        .await;
    let (status, session) =
        f.a.call(
            Method::POST,
            &format!("/api/v1/orgs/{}/projects/{project}/chats", f.org),
            Some(&member),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    (project, member, session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_broadcast_never_came_still_closes_its_sockets_on_every_replica() {
    let cluster = PgCluster::create();
    let redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let (project, member, session) = chatting_member(&f).await;
    let session = session["id"].as_str().expect("id");
    let mut on_a = chat_socket(&f.a, f.org, project, &member, session).await;
    let mut on_b = chat_socket(&f.b, f.org, project, &member, session).await;
    // Stored as every revocation is, but its broadcast lost (as one published while a replica
    // re-subscribes is).
    let claims = f.a.state.tokens.verify(&member).expect("claims");
    f.a.state
        .denylist
        .revoke(
            app::auth::denylist::Revoked::Token(&claims.jti),
            "test",
            "lost broadcast",
        )
        .await
        .expect("stored");
    let revoked = Instant::now();
    for socket in [&mut on_a, &mut on_b] {
        assert_eq!(
            closed_within(socket, Duration::from_secs(4)).await,
            (4001, "token revoked: sign in again".to_owned())
        );
    }
    eprintln!(
        "both sockets closed {:?} after the revocation, no broadcast",
        revoked.elapsed()
    );
    f.stop().await;
}

/// A replica re-checks its sockets' tokens together (`Denylist::revoked_among`): each gets the
/// verdict the one-token check gives, for both kinds of revocation, across more tokens than one
/// round trip asks about, and after Redis lost its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rechecked_together_get_the_verdicts_of_the_one_token_check() {
    use app::auth::denylist::{CHECK_CHUNK, Held, Revoked};
    let cluster = PgCluster::create();
    let mut redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let denylist = &f.a.state.denylist;
    let (locked_out, other) = (Uuid::new_v4(), Uuid::new_v4());
    denylist
        .revoke(Revoked::Token("signed-out"), "test", "sign-out")
        .await
        .expect("stored");
    denylist
        .revoke(
            Revoked::User {
                user: locked_out,
                before: 1_000,
            },
            "test",
            "locked out",
        )
        .await
        .expect("stored");
    let held = |jti: &str, user: Uuid, issued_at: u64| Held {
        jti: jti.to_owned(),
        user,
        issued_at,
    };
    let mut tokens: Vec<Held> = (0..2 * CHECK_CHUNK + 7)
        .map(|i| held(&format!("clean-{i}"), other, 500))
        .collect();
    tokens.extend([
        held("signed-out", other, 500),
        held("issued-before-the-lockout", locked_out, 1_000),
        held("issued-after-the-lockout", locked_out, 1_001),
    ]);
    let mut one_by_one = std::collections::HashSet::new();
    for t in &tokens {
        if denylist
            .is_revoked(&t.jti, Some(t.user), t.issued_at)
            .await
            .expect("answered")
        {
            one_by_one.insert(t.jti.as_str());
        }
    }
    assert_eq!(
        one_by_one,
        ["signed-out", "issued-before-the-lockout"].into_iter().collect()
    );
    assert_eq!(denylist.revoked_among(&tokens).await.expect("answered"), one_by_one);

    // A new Redis pod without a volume: the check restores the revocations before it answers.
    redis.restart(false);
    let back = Instant::now();
    let together = loop {
        match denylist.revoked_among(&tokens).await {
            Ok(revoked) => break revoked,
            Err(e) => assert!(back.elapsed() < Duration::from_secs(10), "Redis answers again: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(together, one_by_one);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_closed_while_redis_was_down_closes_its_sockets_once_it_is_back() {
    let cluster = PgCluster::create();
    let mut redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let (project, member, session) = chatting_member(&f).await;
    let id: Uuid = session["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    let mut on_b = chat_socket(&f.b, f.org, project, &member, &id.to_string()).await;
    redis.kill();
    // Closed while no replica could hear of it (as a 4th chat on another replica closes one).
    sqlx::query("UPDATE chat_sessions SET closed_at = now() WHERE id = $1")
        .bind(id)
        .execute(&f.owner)
        .await
        .expect("closed");
    redis.restart(true);
    let back = Instant::now();
    assert_eq!(
        closed_within(&mut on_b, Duration::from_secs(10)).await,
        (
            4000,
            "session closed: a newer chat replaced it, or it was closed".to_owned()
        )
    );
    eprintln!("the socket closed {:?} after Redis came back", back.elapsed());
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_unheard_while_redis_was_down_reads_no_frame_after_it_on_any_replica() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let cluster = PgCluster::create();
    let mut redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let (project, member, session) = chatting_member(&f).await;
    let id: Uuid = session["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    let mut sockets = [
        chat_socket(&f.a, f.org, project, &member, &id.to_string()).await,
        chat_socket(&f.b, f.org, project, &member, &id.to_string()).await,
    ];
    redis.kill();
    // Removed while no replica could hear of it: the membership gone, its event never sent (the
    // chats left open, as a removal before this release left them).
    sqlx::query(
        "DELETE FROM project_members WHERE project_id = $1 AND user_id = (SELECT user_id FROM chat_sessions WHERE id = $2)",
    )
    .bind(project)
    .bind(id)
    .execute(&f.owner)
    .await
    .expect("removed");
    redis.restart(true);
    let back = Instant::now();
    // A poll opened as soon as the API answers again: the removed member must not read it.
    let path = format!("/api/v1/orgs/{}/projects/{project}/polls", f.org);
    let opened = loop {
        let (status, body) =
            f.a.call(
                Method::POST,
                &path,
                Some(&f.admin),
                Some(json!({"template": "ship-it"})),
            )
            .await;
        if status == StatusCode::CREATED {
            break back.elapsed();
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(back.elapsed() < Duration::from_secs(15), "the API answers again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for socket in &mut sockets {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let (code, reason) = loop {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => break (u16::from(frame.code), frame.reason.to_string()),
                Ok(Some(Ok(Message::Text(text)))) => {
                    assert!(!text.contains("\"poll\""), "a removed member read the new poll: {text}");
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("no close frame within 10 s of Redis coming back: {other:?}"),
            }
        };
        assert_eq!(
            (code, reason.as_str()),
            (4003, "removed from the project: ask its owner to add you again")
        );
    }
    eprintln!(
        "both sockets closed {:?} after Redis came back (the poll opened after {opened:?}), no poll read",
        back.elapsed()
    );
    f.stop().await;
}

/// The load's verdict: only 2xx and 503, and every acknowledged project stored.
async fn only_2xx_and_503_and_nothing_lost(f: &Fixture, seen: &Seen) {
    let unexpected: Vec<&(StatusCode, String)> = seen
        .answers
        .iter()
        .filter(|(s, _)| ![StatusCode::OK, StatusCode::CREATED, StatusCode::SERVICE_UNAVAILABLE].contains(s))
        .collect();
    assert_eq!(unexpected, Vec::<&(StatusCode, String)>::new(), "only 2xx and 503");
    let orgs: Vec<Uuid> = f.tenants.iter().map(|(org, _)| *org).collect();
    let stored: Vec<String> = sqlx::query_scalar("SELECT name FROM projects WHERE org_id = ANY($1)")
        .bind(&orgs)
        .fetch_all(&f.owner)
        .await
        .expect("projects");
    let missing: Vec<&String> = seen.created.iter().filter(|n| !stored.contains(n)).collect();
    assert_eq!(missing, Vec::<&String>::new(), "acknowledged but lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_and_restarted_with_and_without_data_answers_503_never_500() {
    let cluster = PgCluster::create();
    let redis = Arc::new(std::sync::Mutex::new(OwnRedis::start()));
    let f = {
        let url = redis.lock().expect("redis").url();
        fixture_with(&cluster, &url, json!({})).await
    };
    for keep_data in [true, false] {
        let stop = Arc::new(AtomicBool::new(false));
        let faults = tokio::spawn({
            let (stop, redis) = (Arc::clone(&stop), Arc::clone(&redis));
            async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                redis.lock().expect("redis").kill();
                tokio::time::sleep(Duration::from_millis(700)).await;
                redis.lock().expect("redis").restart(keep_data);
                tokio::time::sleep(Duration::from_millis(2000)).await;
                stop.store(true, Ordering::Release);
            }
        });
        let seen = load(&f, if keep_data { "kept-" } else { "empty-" }, stop).await;
        faults.await.expect("faults");
        let count = |wanted: StatusCode| seen.answers.iter().filter(|(s, _)| *s == wanted).count();
        eprintln!(
            "Redis killed for 0.7 s and restarted {}: {} requests, {} 2xx, {} 503",
            if keep_data { "with its data" } else { "empty" },
            seen.answers.len(),
            count(StatusCode::OK) + count(StatusCode::CREATED),
            count(StatusCode::SERVICE_UNAVAILABLE)
        );
        only_2xx_and_503_and_nothing_lost(&f, &seen).await;
        assert!(
            count(StatusCode::SERVICE_UNAVAILABLE) > 0,
            "requests during the outage fail closed"
        );
        let last = &seen.answers[seen.answers.len().saturating_sub(8)..];
        assert!(
            last.iter().all(|(s, _)| s.is_success()),
            "served again after the restart: {last:?}"
        );
    }
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_drops_no_request_a_load_balancer_still_sends() {
    let cluster = PgCluster::create();
    let redis = OwnRedis::start();
    let mut f = fixture_with(
        &cluster,
        &redis.url(),
        json!({"shutdown_drain_secs": 1, "shutdown_grace_secs": 4}),
    )
    .await;
    // Clients of replica a, and its load balancer: it probes /readyz every 100 ms and sends
    // no new request once a probe says 503; what it sent before must all be served.
    let routed = Arc::new(AtomicBool::new(true));
    let (http, base) = (f.a.http.clone(), f.a.url(""));
    let balancer = tokio::spawn({
        let (http, base, routed) = (http.clone(), base.clone(), Arc::clone(&routed));
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let ready = http.get(format!("{base}/readyz")).send().await;
                if !ready.is_ok_and(|r| r.status().is_success()) {
                    routed.store(false, Ordering::Release);
                    return;
                }
            }
        }
    });
    let workers = (0..4).map(|worker| {
        let (http, base, routed, token, org) =
            (http.clone(), base.clone(), Arc::clone(&routed), f.admin.clone(), f.org);
        async move {
            let mut failures = Vec::new();
            let mut created = Vec::new();
            let mut i = 0;
            while routed.load(Ordering::Acquire) {
                i += 1;
                let name = format!("t{worker}-{i}");
                let answer = http
                    .post(format!("{base}/api/v1/orgs/{org}/projects"))
                    .json(&json!({"name": name}))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status() == StatusCode::CREATED => created.push(name),
                    Ok(r) => failures.push(format!("{name}: {}", r.status())),
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
            (created, failures)
        }
    });
    let load = tokio::spawn(futures_util::future::join_all(workers));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    f.a.signal_stop();
    let results = load.await.expect("load");
    balancer.await.expect("balancer");
    let created: Vec<String> = results.iter().flat_map(|(c, _)| c.clone()).collect();
    let failures: Vec<String> = results.into_iter().flat_map(|(_, f)| f).collect();
    eprintln!(
        "{} requests served, {} failed; the balancer stopped routing {:?} after SIGTERM",
        created.len(),
        failures.len(),
        signalled.elapsed()
    );
    assert_eq!(
        failures,
        Vec::<String>::new(),
        "no request the balancer sent was dropped"
    );
    let seen = Seen {
        answers: created.iter().map(|n| (StatusCode::CREATED, n.clone())).collect(),
        created,
    };
    only_2xx_and_503_and_nothing_lost(&f, &seen).await;
    let Fixture { a, b, .. } = f;
    a.stop().await;
    assert!(signalled.elapsed() < Duration::from_secs(4), "gone within the grace");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_close_whose_event_was_lost_closes_its_sockets_within_the_recheck() {
    let cluster = PgCluster::create();
    let redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let (project, member, session) = chatting_member(&f).await;
    let id: Uuid = session["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    let mut on_b = chat_socket(&f.b, f.org, project, &member, &id.to_string()).await;
    // Closed in PostgreSQL, and its publish lost: Redis stays up, nobody hears of it.
    sqlx::query("UPDATE chat_sessions SET closed_at = now() WHERE id = $1")
        .bind(id)
        .execute(&f.owner)
        .await
        .expect("closed");
    let closed = Instant::now();
    assert_eq!(
        closed_within(
            &mut on_b,
            app::chat::subscriber::SESSION_RECHECK + Duration::from_secs(2)
        )
        .await,
        (
            4000,
            "session closed: a newer chat replaced it, or it was closed".to_owned()
        )
    );
    eprintln!("the socket closed {:?} after its session, no event", closed.elapsed());
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_subscribers_are_not_subscribed_is_not_ready() {
    let cluster = PgCluster::create();
    let mut redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let readiness = |app: &TestApp| {
        let url = app.url("/readyz");
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.expect("answers");
            (response.status(), response.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = readiness(&f.a).await;
    assert_eq!((status, body["subscribed"].clone()), (StatusCode::OK, json!(true)));
    redis.kill();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = readiness(&f.a).await;
        if body["subscribed"] == false {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            break;
        }
        assert!(Instant::now() < deadline, "the lost subscription shows: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.restart(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = readiness(&f.a).await;
        if status == StatusCode::OK {
            assert_eq!(body["subscribed"], true);
            break;
        }
        assert!(Instant::now() < deadline, "ready again once re-subscribed: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Ready means subscribed: with a subscriber down and everything else up, it is not.
    f.a.state.chat_events.store(false, Ordering::Release);
    let (status, body) = readiness(&f.a).await;
    assert_eq!(
        (
            status,
            body["database"].clone(),
            body["redis"].clone(),
            body["subscribed"].clone()
        ),
        (StatusCode::SERVICE_UNAVAILABLE, json!(true), json!(true), json!(false))
    );
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_postgres_restart_the_first_requests_find_a_live_connection() {
    let cluster = PgCluster::create();
    let redis = OwnRedis::start();
    let f = fixture(&cluster, &redis).await;
    let path = format!("/api/v1/orgs/{}/projects", f.org);
    // Fill each replica's pool with idle connections, which the restart then kills.
    for app in [&f.a, &f.b] {
        let reads = (0..8).map(|_| app.call(Method::GET, &path, Some(&f.admin), None));
        for (status, _) in futures_util::future::join_all(reads).await {
            assert_eq!(status, StatusCode::OK);
        }
    }
    cluster.restart_fast();
    for app in [&f.a, &f.b] {
        let idle = app.state.db.num_idle();
        let (status, body) = app.call(Method::GET, &path, Some(&f.admin), None).await;
        assert_eq!(status, StatusCode::OK, "with {idle} dead idle connections: {body}");
    }
    f.stop().await;
}
