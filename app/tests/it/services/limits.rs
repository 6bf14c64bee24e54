//! What a tenant may grow, and how fast, against the real PostgreSQL and Redis: per-org quotas
//! (held across two replicas), polls a page at a time, trimmed history and chat sessions,
//! expired guests dropped, and sign-in rate limits shared by every replica.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

/// Sets the org's quotas as the platform admin, from the version its admin reads.
async fn set_quotas(app: &TestApp, platform: &str, org: Uuid, quotas: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/orgs/{org}/configs/quotas");
    let (status, current) = app.call(Method::GET, &path, Some(platform), None).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    let response = app
        .http
        .put(app.url(&path))
        .bearer_auth(platform)
        .header("If-Match", format!("\"{}\"", current["version"]))
        .json(&json!({"value": quotas, "reason": "test"}))
        .send()
        .await
        .expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A platform admin's token, a committed org and the token of an admin guest of it.
async fn org_and_admin(app: &TestApp) -> (String, Uuid, String) {
    let platform = app.admin_token().await;
    let org = app.create_org(&platform, "acme").await;
    let (owner, _) = app.guest(&platform, org, "admin").await;
    (platform, org, owner)
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().unwrap_or_default()
}

async fn mint(app: &TestApp, token: &str, org: Uuid, uses: i64) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/api/v1/orgs/{org}/invites"),
        Some(token),
        Some(json!({"role": "member", "uses": uses})),
    )
    .await
}

async fn sign_in(app: &TestApp, code: &Value) -> (StatusCode, Value) {
    app.redeem(&code).await
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn quotas_cap_what_an_org_holds_and_only_the_platform_admin_raises_them(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    let (platform, org, owner) = org_and_admin(&app).await;

    // Every org starts with the documented defaults, which its own admin cannot raise.
    let (status, quotas) = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/configs/quotas"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        quotas["value"],
        json!({"projects": 100, "guests": 500, "invites": 100, "polls_per_project": 50})
    );
    let (status, problem) = set_quotas(&app, &owner, org, json!({})).await;
    assert_eq!(
        (status, detail(&problem)),
        (
            StatusCode::FORBIDDEN,
            "only the platform admin may change quotas: an org cannot raise its own limits"
        )
    );
    let stranger = Uuid::new_v4();
    let response = app
        .http
        .put(app.url(&format!("/api/v1/orgs/{stranger}/configs/quotas")))
        .bearer_auth(&platform)
        .json(&json!({"value": {"projects": 1, "guests": 1, "invites": 1, "polls_per_project": 1}, "reason": "x"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "no such org");
    let (status, problem) = set_quotas(&app, &platform, org, json!({"projects": 2})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let small = json!({"projects": 2, "guests": 3, "invites": 2, "polls_per_project": 2});
    let (status, config) = set_quotas(&app, &platform, org, small.clone()).await;
    assert_eq!(status, StatusCode::OK, "{config}");
    assert_eq!(
        (config["value"].clone(), config["updated_by"].clone()),
        (small, json!("platform-admin"))
    );

    // Projects.
    app.create_project(&owner, org, "one").await;
    let project = app.create_project(&owner, org, "two").await;
    let (status, problem) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/projects"),
            Some(&owner),
            Some(json!({"name": "three"})),
        )
        .await;
    assert_eq!(
        (status, detail(&problem).to_owned()),
        (
            StatusCode::CONFLICT,
            format!(
                "the org has reached its quota of 2 projects (quotas.projects); ask the platform admin to raise it \
                 (PUT /api/v1/orgs/{org}/configs/quotas)"
            )
        )
    );

    // Invites: spent ones do not count; withdrawing one makes room.
    let (_, first) = mint(&app, &owner, org, 5).await;
    let (status, second) = mint(&app, &owner, org, 1).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, problem) = mint(&app, &owner, org, 1).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail(&problem).starts_with("the org has reached its quota of 2 redeemable invites (quotas.invites)"),
        "{problem}"
    );
    assert_eq!(sign_in(&app, &second["code"]).await.0, StatusCode::OK, "spends it");
    assert_eq!(mint(&app, &owner, org, 1).await.0, StatusCode::CREATED);

    // Guests: the owner and the one above; a third fits, a fourth is refused and its invite
    // use is not spent.
    assert_eq!(sign_in(&app, &first["code"]).await.0, StatusCode::OK);
    let (status, problem) = sign_in(&app, &first["code"]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail(&problem).starts_with("the org has reached its quota of 3 guests signed in within a token's lifetime"),
        "{problem}"
    );
    let (_, listed) = app
        .call(Method::GET, &format!("/api/v1/orgs/{org}/invites"), Some(&owner), None)
        .await;
    let uses_left: Vec<&Value> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["id"] == first["id"])
        .map(|i| &i["uses_left"])
        .collect();
    assert_eq!(uses_left, vec![&json!(4)], "{listed}");

    // Polls, per project; deleting one makes room.
    let polls = format!("/api/v1/orgs/{org}/projects/{project}/polls");
    let open = || app.call(Method::POST, &polls, Some(&owner), Some(json!({"template": "sprint"})));
    let (_, poll) = open().await;
    assert_eq!(open().await.0, StatusCode::CREATED);
    let (status, problem) = open().await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        detail(&problem).starts_with("the org has reached its quota of 2 polls in this project"),
        "{problem}"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{polls}/{}", poll["id"].as_str().expect("id")),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(open().await.0, StatusCode::CREATED);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_quota_holds_under_concurrent_requests_on_two_replicas(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let platform = a.admin_token().await;
    let org = a.create_org(&platform, "acme").await;
    let (owner, _) = a.guest(&platform, org, "admin").await;
    let quotas = json!({"projects": 5, "guests": 500, "invites": 100, "polls_per_project": 50});
    assert_eq!(set_quotas(&a, &platform, org, quotas).await.0, StatusCode::OK);
    // Replica b learns the new quota through the config event.
    for _ in 0..200 {
        if app::configs::quotas::Quota::Projects.limit(&b.state.configs, org) == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let path = format!("/api/v1/orgs/{org}/projects");
    let creates = (0..16).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.call(
            Method::POST,
            &path,
            Some(&owner),
            Some(json!({"name": format!("p{i}")})),
        )
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(creates)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (5, 11), "{statuses:?}");
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn concurrent_wrong_admin_credentials_are_evaluated_at_most_at_the_limiters_rate(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let guesses = (0..60).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let (http, url) = (app.http.clone(), app.url("/api/v1/auth/admin"));
        async move {
            http.post(url)
                .json(&json!({"credential": format!("guess-{i}")}))
                .send()
                .await
                .expect("sent")
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let evaluated = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(
        (evaluated, limited),
        (10, 50),
        "a full bucket of 10 evaluates 10 of 60 concurrent guesses"
    );
    a.stop().await;
    b.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_flood_of_codes_nobody_minted_costs_no_redis_key_no_slot_and_no_real_sign_in(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    use base64::Engine;
    let app = TestApp::spawn(&options).await;
    let platform = app.admin_token().await;
    let org = app.create_org(&platform, "acme").await;
    let (owner, _) = app.guest(&platform, org, "admin").await;
    let (status, minted) = mint(&app, &owner, org, 20).await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    // Codes for orgs that do not exist (what the flood sent), and for the real org with a
    // made-up secret: shaped as codes were before they carried a MAC (org and secret), and as
    // they are now (with 16 more bytes, a made-up MAC).
    let fakes: Vec<(Uuid, String)> = (0..64)
        .map(|i| {
            let fake_org = if i == 0 { org } else { Uuid::new_v4() };
            let mut bytes = fake_org.as_bytes().to_vec();
            bytes.extend(std::iter::repeat_n(i as u8, if i % 2 == 0 { 32 } else { 48 }));
            let code = format!("inv_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
            (fake_org, code)
        })
        .collect();
    // Every sign-in slot of the server is held: a fake code that took one would answer 429.
    let held = app.state.guest_sign_ins.acquire_many(4).await.expect("permits");
    for (_, code) in &fakes {
        assert_eq!(sign_in(&app, &json!(code)).await.0, StatusCode::UNAUTHORIZED);
    }
    drop(held);
    // 32 clients flood for a bounded 3,200 requests while 20 real sign-ins go one after another.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = (0..32).map(|worker| {
        let (http, url, stop) = (app.http.clone(), app.url("/api/v1/auth/guest"), stop.clone());
        let codes: Vec<String> = fakes.iter().map(|(_, c)| c.clone()).collect();
        tokio::spawn(async move {
            let mut sent = 0;
            while sent < 100 && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let code = &codes[(worker + sent) % codes.len()];
                let status = http
                    .post(&url)
                    .json(&json!({"invite_code": code}))
                    .send()
                    .await
                    .expect("sent")
                    .status();
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                sent += 1;
            }
            sent
        })
    });
    let flood: Vec<_> = flood.collect();
    let mut real = Vec::new();
    for _ in 0..20 {
        real.push(sign_in(&app, &minted["code"]).await.0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = 0;
    for worker in flood {
        sent += worker.await.expect("flood worker");
    }
    assert_eq!(
        real,
        vec![StatusCode::OK; 20],
        "every real sign-in during a flood of {sent}"
    );
    eprintln!("20 real sign-ins, all 200, during a flood of {sent} made-up codes from 32 clients");
    // Not one Redis key for the fake codes' orgs (the real org's bucket is the real sign-ins').
    let client = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    for (fake_org, _) in fakes.iter().skip(1) {
        let exists: bool = redis::cmd("EXISTS")
            .arg(format!("auth:guest:{fake_org}"))
            .query_async(&mut conn)
            .await
            .expect("exists");
        assert!(!exists, "a bucket for made-up org {fake_org}");
    }
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn polls_page_newest_first_and_a_snapshot_carries_the_newest_twenty(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let (_, org, owner) = org_and_admin(&app).await;
    let project = app.create_project(&owner, org, "web").await;
    let polls = format!("/api/v1/orgs/{org}/projects/{project}/polls");
    let mut opened = Vec::new();
    for _ in 0..25 {
        let (status, poll) = app
            .call(Method::POST, &polls, Some(&owner), Some(json!({"template": "ship-it"})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{poll}");
        opened.push(poll["id"].as_str().expect("id").to_owned());
    }
    let ids = |page: &Value| -> Vec<String> {
        page.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect()
    };
    let newest_first: Vec<String> = opened.iter().rev().cloned().collect();

    let response = app
        .http
        .get(app.url(&polls))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("sent");
    let link = response.headers()["link"].to_str().expect("text").to_owned();
    let first: Value = response.json().await.expect("json");
    assert_eq!(ids(&first), newest_first[..20]);
    assert_eq!(
        link,
        format!("<{polls}?limit=20&before={}>; rel=\"next\"", newest_first[19])
    );
    let next = link.trim_start_matches('<').split('>').next().expect("url");
    let response = app
        .http
        .get(app.url(next))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("sent");
    assert!(response.headers().get("link").is_none(), "the last page");
    let rest: Value = response.json().await.expect("json");
    assert_eq!(ids(&rest), newest_first[20..]);

    let (status, problem) = app
        .call(Method::GET, &format!("{polls}?limit=0"), Some(&owner), None)
        .await;
    assert_eq!(
        (status, detail(&problem)),
        (StatusCode::BAD_REQUEST, "limit is 0; it must be 1-100")
    );
    let stranger = Uuid::new_v4();
    let (status, problem) = app
        .call(Method::GET, &format!("{polls}?before={stranger}"), Some(&owner), None)
        .await;
    assert_eq!(
        (status, detail(&problem).to_owned()),
        (
            StatusCode::BAD_REQUEST,
            format!("before names no poll of this project ({stranger}); start again without it")
        )
    );

    // What every socket gets first: the newest twenty, oldest of them first.
    let (_, _, snapshot) = app::chat::store::counters::snapshot(&app.state.db, org, project)
        .await
        .expect("snapshot");
    assert_eq!(ids(&Value::Array(snapshot)), opened[5..]);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn config_history_and_closed_chats_are_trimmed_to_their_newest(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let platform = app.admin_token().await;
    let org = app.create_org(&platform, "acme").await;
    let (owner, me) = app.guest(&platform, org, "admin").await;
    let path = format!("/api/v1/orgs/{org}/configs/ui.banner");
    for version in 1..=105 {
        let response = app
            .http
            .put(app.url(&path))
            .bearer_auth(&owner)
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"value": format!("v{version}"), "reason": "loop"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let (_, history) = app
        .call(Method::GET, &format!("{path}/history?limit=200"), Some(&owner), None)
        .await;
    let versions: Vec<i64> = history
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["version"].as_i64())
        .collect();
    assert_eq!(versions, (7..=106).rev().collect::<Vec<i64>>());

    let project = app.create_project(&owner, org, "web").await;
    for _ in 0..15 {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/orgs/{org}/projects/{project}/chats"),
                Some(&owner),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let db = PgPool::connect_with(options.clone()).await.expect("owner");
    let user: Uuid = me["me"]["user"].as_str().and_then(|u| u.parse().ok()).expect("user");
    let (open, closed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE closed_at IS NULL), count(*) FILTER (WHERE closed_at IS NOT NULL)
           FROM chat_sessions WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!((open, closed), (3, 10));
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn guests_whose_tokens_expired_a_day_ago_are_dropped_at_the_next_sign_in(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    let (platform, org, owner) = org_and_admin(&app).await;
    let project = app.create_project(&owner, org, "web").await;
    let db = PgPool::connect_with(options.clone()).await.expect("owner");
    // Two earlier guests, members of the project: one signed in two days ago, one an hour ago.
    for (key, age) in [("guest-9001", "2 days"), ("guest-9002", "1 hour")] {
        sqlx::query(
            "WITH g AS (INSERT INTO users (org_id, user_key, created_at) VALUES ($1, $2, now() - $4::interval)
                        RETURNING id)
             INSERT INTO project_members (org_id, project_id, user_id, role) SELECT $1, $3, id, 'member' FROM g",
        )
        .bind(org)
        .bind(key)
        .bind(project)
        .bind(age)
        .execute(&db)
        .await
        .expect("seeded");
    }
    app.guest(&platform, org, "member").await;
    let left: Vec<String> = sqlx::query_scalar(
        "SELECT u.user_key FROM users u JOIN project_members m ON m.user_id = u.id WHERE u.org_id = $1
          ORDER BY u.user_key",
    )
    .bind(org)
    .fetch_all(&db)
    .await
    .expect("members");
    assert_eq!(left, vec!["guest-0001", "guest-9002"]);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn sign_in_guesses_are_rate_limited_across_replicas(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let admin_sign_in = |app: &TestApp, credential: String| {
        let app_url = app.url("/api/v1/auth/admin");
        let http = app.http.clone();
        async move {
            let response = http
                .post(app_url)
                .json(&json!({"credential": credential}))
                .send()
                .await
                .expect("sent");
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or("").to_owned());
            let status = response.status();
            (
                status,
                retry_after,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // Guest sign-ins: 60 a minute per org, right or wrong, over both replicas: a spent code
    // (the only wrong code that reaches the org's bucket: a code the deployment did not mint
    // is refused before it) is refused, then limited. The bucket holds 60 and refills one a
    // second, so on a slow machine a few more than 60 pass: as many as whole seconds went by.
    let platform = a.admin_token().await;
    let org = a.create_org(&platform, "acme").await;
    let first_sign_in = std::time::Instant::now();
    let (owner, _) = a.guest(&platform, org, "admin").await;
    let (status, minted) = mint(&a, &owner, org, 1).await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let spent = minted["code"].clone();
    assert_eq!(sign_in(&b, &spent).await.0, StatusCode::OK);
    // The two sign-ins above (the admin guest's and this one) drew from the bucket too. Wrong
    // codes alternate between the replicas until one is limited: a bucket per replica would
    // let about twice as many through.
    let per_minute = app::auth::routes::GUEST_SIGN_INS_PER_MINUTE as usize;
    let mut refused = 0;
    let limited_on = loop {
        let app = if refused % 2 == 0 { &a } else { &b };
        let (status, problem) = sign_in(app, &spent).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(detail(&problem).starts_with("too many sign-ins to this org in the last minute; retry in 1 s"));
            break app;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {refused}: {problem}");
        refused += 1;
        assert!(refused <= 2 * per_minute, "{refused} wrong codes and still not limited");
    };
    let refilled = first_sign_in.elapsed().as_secs() as usize * per_minute / 60 + 1;
    assert!(
        (per_minute - 2..=per_minute - 2 + refilled).contains(&refused),
        "{refused} wrong codes passed before the limit, where the shared bucket holds {} (+{refilled} refilled)",
        per_minute - 2
    );
    // The other replica refuses too (a token refilled meanwhile lets at most one more through).
    let other_replica = if std::ptr::eq(limited_on, &a) { &b } else { &a };
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, problem) = sign_in(other_replica, &spent).await;
        answers.push(status);
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(detail(&problem).starts_with("too many sign-ins to this org in the last minute; retry in 1 s"));
            break;
        }
    }
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{answers:?}");
    // A replica runs 4 sign-in transactions at once, whatever orgs the codes name.
    let other = a.create_org(&platform, "globex").await;
    let (other_owner, _) = a.guest(&platform, other, "admin").await;
    let (status, minted) = mint(&a, &other_owner, other, 1).await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let other_code = minted["code"].clone();
    let running = a.state.guest_sign_ins.acquire_many(4).await.expect("permits");
    let (status, problem) = sign_in(&a, &other_code).await;
    assert_eq!(
        (status, detail(&problem)),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "too many sign-ins are running on this server at once; retry in 1 s"
        )
    );
    drop(running);
    assert_eq!(sign_in(&a, &other_code).await.0, StatusCode::OK);

    // Ten wrong platform-admin credentials, half on each replica; then even the right one is
    // refused, on both, and says when to come back.
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            admin_sign_in(app, format!("guess-{i}")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    for app in [&a, &b] {
        let (status, retry_after, problem) = admin_sign_in(app, app.admin_credential()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
        let wait: u64 = retry_after
            .and_then(|r| r.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=6).contains(&wait), "{wait}");
        assert_eq!(
            detail(&problem),
            format!("too many wrong platform-admin credentials were tried; retry in {wait} s")
        );
    }

    a.stop().await;
    b.stop().await;
}
