//! The HTTP API against the real PostgreSQL and Redis: auth (including a JWT attack matrix),
//! roles, projects, configs with optimistic concurrency, and what bad input gets back.

use std::sync::Arc;

use crate::support::{JWT_SECRET, TestApp};
use app::auth::token::{Claims, Subject};
use app::domain::OrgRole;
use app::orgs::gate::NoGate;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Valid claims of a guest admin of `org`; each attack below changes one thing.
fn claims(org: Uuid, user: Uuid) -> Claims {
    Claims {
        iss: "app".to_owned(),
        aud: "app-api".to_owned(),
        typ: "access".to_owned(),
        sub: user.to_string(),
        jti: Uuid::new_v4().to_string(),
        iat: now(),
        nbf: now(),
        exp: now() + 600,
        who: Subject::Guest {
            org,
            user,
            user_key: "guest-0001".to_owned(),
            role: OrgRole::Admin,
        },
    }
}

fn sign(header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).expect("signs")
}

fn hs256(claims: &Value) -> String {
    sign(&Header::new(Algorithm::HS256), claims)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn every_forged_or_stale_token_is_refused(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (_, guest) = app.guest(&admin, org, "admin").await;
    let user: Uuid = guest["me"]["user"].as_str().and_then(|s| s.parse().ok()).expect("user");
    let valid = serde_json::to_value(claims(org, user)).expect("json");
    let path = format!("/api/v1/orgs/{org}/projects");

    // The control: a well-formed token passes, so each refusal below is about its one change.
    let (status, _) = app.call(Method::GET, &path, Some(&hs256(&valid)), None).await;
    assert_eq!(status, StatusCode::OK);

    let with = |field: &str, value: Value| {
        let mut c = valid.clone();
        c[field] = value;
        c
    };
    let without = |field: &str| {
        let mut c = valid.clone();
        c.as_object_mut().expect("object").remove(field);
        c
    };
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(valid.to_string());
        format!("{header}.{body}.")
    };
    // HMAC under another algorithm of the family, and an RS256 header over an HMAC signature
    // (the classic confusion, where a verifier uses the public key as the HMAC secret).
    let hs512 = sign(&Header::new(Algorithm::HS512), &valid);
    let rs256_header = {
        let token = hs256(&valid);
        let mut parts: Vec<&str> = token.split('.').collect();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        parts[0] = &header;
        parts.join(".")
    };
    let wrong_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &valid,
        &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
    )
    .expect("signs");
    let attacks: Vec<(&str, String)> = vec![
        ("alg none", unsigned),
        ("HS512", hs512),
        ("RS256 header", rs256_header),
        ("wrong key", wrong_key),
        ("wrong aud", hs256(&with("aud", json!("someone-else")))),
        ("wrong iss", hs256(&with("iss", json!("evil")))),
        ("wrong typ", hs256(&with("typ", json!("refresh")))),
        ("expired", hs256(&with("exp", json!(now() - 120)))),
        ("future nbf", hs256(&with("nbf", json!(now() + 120)))),
        ("missing jti", hs256(&without("jti"))),
        ("empty jti", hs256(&with("jti", json!("")))),
        ("missing typ", hs256(&without("typ"))),
        ("missing exp", hs256(&without("exp"))),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (name, token) in &attacks {
        let (status, body) = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(body["status"], 401, "{name}");
    }

    // Revoked: sign-out locks the token out.
    let (token, _) = app.guest(&admin, org, "member").await;
    let (status, _) = app
        .call(Method::POST, "/api/v1/auth/sign-out", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.call(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "the token has been revoked; sign in again");

    // No header, or not a bearer.
    let (status, body) = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("send `Authorization: Bearer <token>`"))
    );
    app.stop().await;
}

/// A key rotation as `platform secrets rotate` runs it, one replica per phase side by side as
/// during each rollout: no replica ever refuses a token or invite code another one signed, and
/// the retired key stops verifying tokens when its window closes (invite codes, which live
/// longer, keep theirs).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_key_rotation_refuses_no_live_credential_and_retires_the_old_key(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    const NEW: &str = "the-next-signing-key-of-at-least-32-bytes";
    let with = |overrides: Value| crate::support::settings(&options, overrides);
    let before = TestApp::spawn(&options).await;
    let phase1 = TestApp::spawn_with(with(json!({ "jwt_next_secret": NEW })), Arc::new(NoGate)).await;
    let until = time::OffsetDateTime::now_utc() + time::Duration::minutes(20);
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    };
    let phase2 = TestApp::spawn_with(
        with(json!({ "jwt_secret": NEW, "jwt_previous_secret": JWT_SECRET, "jwt_previous_until": rfc3339(until) })),
        Arc::new(NoGate),
    )
    .await;

    let admin = before.admin_token().await;
    let org = before.create_org(&admin, "acme").await;
    let (status, old_invite) = before
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&admin),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{old_invite}");
    let (old_token, _) = before.guest(&admin, org, "admin").await;
    let (next_token, _) = phase2.guest(&phase2.admin_token().await, org, "admin").await;
    let projects = format!("/api/v1/orgs/{org}/projects");
    // Phase 1 beside the old replicas and beside phase 2; phase 2 beside phase 1.
    for (app, token, who) in [
        (&phase1, &old_token, "phase 1 reads the old key"),
        (
            &phase1,
            &next_token,
            "phase 1 reads the next key before anyone signs with it",
        ),
        (&phase2, &old_token, "phase 2 reads the previous key"),
        (&phase2, &next_token, "phase 2 reads its own"),
    ] {
        let (status, body) = app.call(Method::GET, &projects, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
    }
    let (status, body) = before.call(Method::GET, &projects, Some(&next_token), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the control: a replica that never learnt the key: {body}"
    );

    // The window has closed: the old key verifies no token, even one it signed just now
    // (a leaked key forges nothing), while an invite code it made still signs a guest in.
    let after = TestApp::spawn_with(
        with(json!({
            "jwt_secret": NEW,
            "jwt_previous_secret": JWT_SECRET,
            "jwt_previous_until": rfc3339(time::OffsetDateTime::now_utc() - time::Duration::seconds(1)),
        })),
        Arc::new(NoGate),
    )
    .await;
    let (status, body) = after.call(Method::GET, &projects, Some(&old_token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = after.redeem(&old_invite["code"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = after
        .call(
            Method::GET,
            &projects,
            Some(body["token"].as_str().expect("token")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "its guest's token is signed with the new key");
    for app in [before, phase1, phase2, after] {
        app.stop().await;
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_revocation_reaches_every_replica_and_redis_down_fails_closed(_: PgPoolOptions, options: PgConnectOptions) {
    let redis: std::net::SocketAddr = "127.0.0.1:6379".parse().expect("addr");
    let proxy = crate::support::proxy::Proxy::start(redis).await;
    let one = TestApp::spawn(&options).await;
    let two = TestApp::spawn_with(
        crate::support::settings(&options, json!({"redis_url": proxy.url()})),
        Arc::new(NoGate),
    )
    .await;
    let admin = one.admin_token().await;
    let (status, body) = one.call(Method::GET, "/api/v1/me", Some(&admin), None).await;
    assert_eq!(
        (status, body["kind"].clone()),
        (StatusCode::OK, json!("platform_admin"))
    );
    let (status, _) = two.call(Method::GET, "/api/v1/me", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);

    // Redis unreachable from replica two: its revocation check cannot run, so it refuses.
    proxy.cut();
    let (status, body) = two.call(Method::GET, "/api/v1/me", Some(&admin), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["detail"],
        "token revocation cannot be checked right now (Redis is unreachable); retry shortly"
    );
    proxy.restore();

    // Revoked on replica one, refused on replica two at once.
    let other = one.admin_token().await;
    let jti = {
        let (_, me) = one
            .call(
                Method::POST,
                "/api/v1/auth/admin",
                None,
                Some(json!({"credential": one.admin_credential()})),
            )
            .await;
        me
    };
    let victim = jti["token"].as_str().expect("token").to_owned();
    let (status, _) = one
        .call(
            Method::POST,
            "/api/v1/auth/revoke",
            Some(&other),
            Some(json!({"jti": jti["jti"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut refused = false;
    for _ in 0..100 {
        let (status, _) = two.call(Method::GET, "/api/v1/me", Some(&victim), None).await;
        if status == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        // Replica two's Redis connection may still be re-establishing after the cut.
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the revoked token must be refused by the other replica");
    one.stop().await;
    two.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_wrong_admin_credential_is_refused(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/admin",
            None,
            Some(json!({"credential": "wrong"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"type": "about:blank", "title": "Unauthorized", "status": 401,
        "detail": "the platform-admin credential is not valid"})
    );

    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_invite_signs_in_one_guest_with_its_role(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, owner_body) = app.guest(&admin, org, "admin").await;
    assert_eq!(owner_body["me"]["user_key"], "guest-0001");
    assert_eq!(owner_body["me"]["role"], "admin");
    assert!(owner_body["expires_in"].as_u64().is_some_and(|s| s <= 900));

    // An invite is single-use by default.
    let (_, invite) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&owner),
            Some(json!({"role": "member"})),
        )
        .await;
    let code = invite["code"].clone();
    let (status, member_body) = app.redeem(&code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(member_body["me"]["user_key"], "guest-0002");
    let (status, body) = app.redeem(&code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["detail"],
        "the invite code is not valid, used up or expired; ask an admin of your org for a new one"
    );

    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn members_and_guests_act_only_within_their_role(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let other_org = app.create_org(&admin, "globex").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let (member, _) = app.guest(&owner, org, "member").await;

    // Members cannot mint invites, create projects or change configs.
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(&member),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/projects"),
            Some(&member),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (StatusCode::FORBIDDEN, json!("only an org admin may do this"))
    );
    // Guests cannot create orgs.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&owner),
            Some(json!({"slug": "x", "name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another org is not found, not forbidden: its existence does not leak.
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{other_org}/projects"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (StatusCode::NOT_FOUND, json!(format!("org {other_org} not found")))
    );

    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn org_admins_manage_projects_and_their_members(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let (member, _) = app.guest(&owner, org, "member").await;

    // Projects and members.
    let (status, project) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/projects"),
            Some(&owner),
            Some(json!({"name": "web"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let pid = project["id"].as_str().expect("id").to_owned();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/projects"),
            Some(&owner),
            Some(json!({"name": "web"})),
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (
            StatusCode::CONFLICT,
            json!("a project named \"web\" exists in this org; choose another name")
        )
    );
    let (status, list) = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/projects"),
            Some(&member),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let members = format!("/api/v1/orgs/{org}/projects/{pid}/members");
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("{members}/guest-0001"),
            Some(&member),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a plain member manages no members");
    let (status, added) = app
        .call(
            Method::PUT,
            &format!("{members}/guest-0002"),
            Some(&owner),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!((status, added["role"].clone()), (StatusCode::OK, json!("member")));
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("{members}/guest-9999"),
            Some(&owner),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(
        (status, body["detail"].clone()),
        (StatusCode::NOT_FOUND, json!("user guest-9999 not found in this org"))
    );
    let (_, list) = app.call(Method::GET, &members, Some(&member), None).await;
    let keys: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["user_key"].as_str())
        .collect();
    assert_eq!(keys, ["guest-0001", "guest-0002"]);
    let (status, _) = app
        .call(Method::DELETE, &format!("{members}/guest-0002"), Some(&owner), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn configs_change_only_from_the_version_they_were_read_at(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let url = app.url(&format!("/api/v1/orgs/{org}/configs/chat.max_sessions"));

    let response = app.http.get(&url).bearer_auth(&owner).send().await.expect("get");
    assert_eq!(response.headers()["etag"], "\"1\"");
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        (
            body["value"].clone(),
            body["version"].clone(),
            body["updated_by"].clone()
        ),
        (json!(3), json!(1), json!("system"))
    );
    assert_eq!(body["set_by"], "org_admin");
    let (status, listed) = app
        .call(Method::GET, &format!("/api/v1/orgs/{org}/configs"), Some(&owner), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let platform_only: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["set_by"] == "platform_admin")
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(platform_only, ["quotas"]);

    let put = |if_match: Option<&str>, value: Value| {
        let mut request = app
            .http
            .put(&url)
            .bearer_auth(&owner)
            .json(&json!({"value": value, "reason": "tuning"}));
        if let Some(v) = if_match {
            request = request.header("If-Match", v);
        }
        request.send()
    };
    let response = put(None, json!(2)).await.expect("put");
    assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["detail"],
        "send If-Match: \"1\" (the version your change is based on) to change chat.max_sessions"
    );

    let response = put(Some("\"1\""), json!(2)).await.expect("put");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    // A second writer that also read version 1 loses.
    let response = put(Some("\"1\""), json!(1)).await.expect("put");
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["detail"],
        "config chat.max_sessions is at version 2, not 1; read it again, reapply your change and retry"
    );
    let response = put(Some("2"), json!(4)).await.expect("put");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["detail"],
        "chat.max_sessions must be an integer from 1 to 3: active chat sessions per user and project; got 4"
    );

    // A key outside the catalog is not found, read, changed or in history alike.
    let unknown = "unknown config key \"chat.max_session\"; known keys: chat.max_sessions, \
                   chat.rate_limit_per_minute, chat.actions, ui.banner, features, chat.poll_templates, quotas";
    for (method, path, body) in [
        (Method::GET, "", None),
        (Method::GET, "/history", None),
        (Method::PUT, "", Some(json!({"value": 2, "reason": "typo"}))),
    ] {
        let (status, problem) = app
            .call(
                method.clone(),
                &format!("/api/v1/orgs/{org}/configs/chat.max_session{path}"),
                Some(&owner),
                body,
            )
            .await;
        assert_eq!(
            (status, problem["detail"].as_str()),
            (StatusCode::NOT_FOUND, Some(unknown)),
            "{method} {path}"
        );
    }

    let (status, history) = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/configs/chat.max_sessions/history"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = history.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0]["version"].clone(),
            rows[0]["old_value"].clone(),
            rows[0]["new_value"].clone()
        ),
        (json!(2), json!(3), json!(2))
    );
    assert_eq!(
        (rows[0]["actor"].clone(), rows[0]["reason"].clone()),
        (json!("guest-0001"), json!("tuning"))
    );
    assert_eq!(
        (rows[1]["actor"].clone(), rows[1]["reason"].clone()),
        (json!("system"), json!("org defaults"))
    );

    // The database agrees and history is append-only for the app role.
    let pool = app::db::runtime_pool(options.clone(), 1).await.expect("pool");
    let mut tx = app::db::begin(&pool, app::db::Tenant::org(org)).await.expect("tx");
    let refused = sqlx::query("DELETE FROM config_history").execute(&mut *tx).await;
    assert!(refused.is_err(), "history cannot be deleted by the app");
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn bad_input_gets_a_clear_problem_document(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/api/v1/orgs"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", Uuid::new_v4().to_string())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: [(&str, &str, StatusCode, &str); 5] = [
        (
            "{\"slug\": ",
            "application/json",
            StatusCode::BAD_REQUEST,
            "Failed to parse the request body as JSON",
        ),
        (
            "{}",
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        (
            r#"{"slug": "Acme!", "name": "x"}"#,
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "slug \"Acme!\" is not valid",
        ),
        (
            r#"{"slug": "acme", "name": "x", "plan": "gold"}"#,
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `plan`",
        ),
        (
            r#"{"slug": "acme"}"#,
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing field `name`",
        ),
    ];
    for (body, content_type, status, needle) in cases {
        let response = post(body, content_type).await.expect("sent");
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: Value = response.json().await.expect("json");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{body}: {detail}");
    }
    let big = "x".repeat(70 * 1024);
    let response = app
        .http
        .post(app.url("/api/v1/orgs"))
        .bearer_auth(&admin)
        .header("Idempotency-Key", "k")
        .json(&json!({"slug": "a", "name": big}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body) = app
        .call(Method::GET, "/api/v1/orgs/not-a-uuid", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with("ids in the path are UUIDs")),
        "{body}"
    );
    let (status, _) = app.call(Method::GET, "/api/v1/nothing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.call(Method::DELETE, "/api/v1/orgs", Some(&admin), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn control_characters_are_refused_with_422_never_a_500(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let project = app.create_project(&owner, org, "Checkout").await;
    let put_config = |key: &str, value: Value, reason: &str| {
        app.http
            .put(app.url(&format!("/api/v1/orgs/{org}/configs/{key}")))
            .bearer_auth(&owner)
            .header("If-Match", "\"1\"")
            .json(&json!({"value": value, "reason": reason}))
            .send()
    };
    // PostgreSQL refuses U+0000 in text and jsonb: each of these was a 500.
    for (key, value, reason, pointer) in [
        (
            "features",
            json!({"dark\u{0}mode": true}),
            "flags",
            "`/value/dark\u{0}mode`",
        ),
        (
            "chat.poll_templates",
            json!([{"id": "ship", "question": "Ship\u{0}?", "choices": ["yes", "no"]}]),
            "polls",
            "`/value/0/question`",
        ),
        // The reason's own rule says it first.
        (
            "chat.max_sessions",
            json!(3),
            "tuning\u{0}",
            "Failed to deserialize the JSON body into the target type: reason: reason must not contain control characters",
        ),
        (
            "chat.max_sessions",
            json!(3),
            "bell\u{7}",
            "Failed to deserialize the JSON body into the target type: reason: reason must not contain control characters",
        ),
    ] {
        let response = put_config(key, value, reason).await.expect("put");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key} {reason:?}");
        let body: Value = response.json().await.expect("problem");
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.starts_with(pointer), "{detail}");
        assert!(detail.contains("control character"), "{detail}");
    }
    // Lines are text: tab, line feed and carriage return stay allowed.
    let response = put_config("chat.max_sessions", json!(3), "one\ttwo\r\nthree")
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::OK);

    // The user_key path segment.
    let members = format!("/api/v1/orgs/{org}/projects/{project}/members/guest-%00");
    let (status, body) = app.call(Method::DELETE, &members, Some(&owner), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call(Method::PUT, &members, Some(&owner), Some(json!({"role": "member"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["detail"],
        "the `user_key` path segment contains a control character"
    );
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn responses_carry_browser_hardening_and_the_replicas_own_request_id(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    for path in ["/", "/ui/app.js", "/api/v1/orgs"] {
        let response = app
            .http
            .get(app.url(path))
            .header("X-Request-Id", "forged-id")
            .send()
            .await
            .expect("answers");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let id = headers["x-request-id"].to_str().expect("ascii");
        assert!(Uuid::parse_str(id).is_ok(), "{path}: the replica's own id, not {id:?}");
    }
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn names_refuse_bidirectional_overrides_and_zero_width_characters(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    for name in ["Pay\u{202E}lapyap", "pay\u{200B}pal", "\u{2066}Checkout\u{2069}"] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/api/v1/orgs/{org}/projects"),
                Some(&owner),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("bidirectional controls and zero-width")),
            "{body}"
        );
    }
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_client_that_never_finishes_its_headers_is_cut_off(_: PgPoolOptions, options: PgConnectOptions) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let settings = crate::support::settings(&options, json!({"header_read_timeout_secs": 1}));
    let app = TestApp::spawn_with(settings, Arc::new(NoGate)).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    // Headers started, never ended (no blank line), as a slow-headers attack sends them.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: app\r\nX-Slow: 1\r\n")
        .await
        .expect("write");
    let started = std::time::Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "closed after {:?}",
        started.elapsed()
    );
    // A request that sends its headers in time is served as ever.
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn org_admins_list_and_withdraw_invites(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let (member, _) = app.guest(&owner, org, "member").await;
    let invites = format!("/api/v1/orgs/{org}/invites");
    let (status, minted) = app
        .call(
            Method::POST,
            &invites,
            Some(&owner),
            Some(json!({"role": "member", "uses": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let (status, listed) = app.call(Method::GET, &invites, Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let entry = listed
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == minted["id"]))
        .expect("the new invite is listed");
    assert_eq!(
        (entry["role"].clone(), entry["uses_left"].clone()),
        (json!("member"), json!(3))
    );
    assert!(!listed.to_string().contains("inv_"), "codes are never listed: {listed}");
    // A member may not see or withdraw invites.
    let (status, _) = app.call(Method::GET, &invites, Some(&member), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let one = format!("{invites}/{}", minted["id"].as_str().expect("id"));
    let (status, _) = app.call(Method::DELETE, &one, Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.redeem(&minted["code"]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a withdrawn code signs nobody in");
    let (status, _) = app.call(Method::DELETE, &one, Some(&owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_org_admin_revokes_every_token_of_a_guest_without_knowing_them(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let (guest, body) = app.guest(&owner, org, "member").await;
    let key = body["me"]["user_key"].as_str().expect("user key");
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&guest), None).await;
    assert_eq!(status, StatusCode::OK);

    let revoke = format!("/api/v1/orgs/{org}/users/{key}/revoke");
    let (status, _) = app.call(Method::POST, &revoke, Some(&guest), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a member cannot");
    let (status, body) = app.call(Method::POST, &revoke, Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.call(Method::GET, "/api/v1/me", Some(&guest), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The admin's own token, and the guests others hold, are untouched.
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/users/guest-9999/revoke"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn no_request_can_grow_the_metrics_and_the_public_port_does_not_serve_them(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    // The public port (what the ingress routes) has no /metrics.
    let (status, _) = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let before = app.metrics_text().await.len();
    // Unauthenticated requests with made-up methods: hyper accepts any token of any length.
    for i in 0..100 {
        let method = Method::from_bytes(format!("X{i:03}{}", "M".repeat(4096)).as_bytes()).expect("a method token");
        let response = app
            .http
            .request(method, app.url("/healthz"))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = app.metrics_text().await;
    assert!(
        text.contains(r#"app_http_requests_total{method="OTHER",route="/healthz",status="405"} 100"#),
        "{text}"
    );
    assert!(!text.contains("MMMM"), "no request's method becomes a label value");
    // One new counter and one new histogram series, not a hundred.
    assert!(
        text.len() < before + 4096,
        "metrics grew from {before} to {} bytes",
        text.len()
    );
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn metrics_and_openapi_describe_the_running_app(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (status, _) = app
        .call(Method::GET, &format!("/api/v1/orgs/{org}"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = app.metrics_text().await;
    for needle in [
        r#"app_http_requests_total{method="GET",route="/api/v1/orgs/{org}",status="200"} 1"#,
        r#"app_http_request_duration_seconds_bucket{le="0.3",method="GET",route="/api/v1/orgs/{org}"}"#,
        r#"app_config_version{key="chat.max_sessions"} 1"#,
        "# TYPE app_config_reloads counter",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(!text.contains(&org.to_string()), "no tenant ids in metrics");
    // Only families the rendered alerts and dashboards query (OpenMetrics names a counter's
    // family without `_total`), and each of them but the rejections, whose labelled family is
    // empty until a frame is refused.
    let exported: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let contract: std::collections::BTreeSet<&str> = platform_contracts::metrics::ALL
        .iter()
        .map(|m| match m.kind {
            platform_contracts::metrics::Kind::Counter => m.name.trim_end_matches("_total"),
            _ => m.name,
        })
        .collect();
    let missing: Vec<&str> = contract.difference(&exported).copied().collect();
    assert!(exported.is_subset(&contract), "{exported:?} not all in {contract:?}");
    assert_eq!(missing, ["app_chat_frames_rejected"]);

    let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    for path in [
        "/api/v1/orgs",
        "/api/v1/orgs/{org}/configs/{key}",
        "/api/v1/auth/guest",
        "/readyz",
    ] {
        assert!(paths.iter().any(|p| *p == path), "{path} in {paths:?}");
    }
    // The config key is documented as the catalog's keys, resolved through the components.
    let parameters = &doc["paths"]["/api/v1/orgs/{org}/configs/{key}"]["put"]["parameters"];
    let key = parameters
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "key"))
        .expect("a key parameter");
    let schema = match key["schema"]["$ref"].as_str() {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .expect("the referenced schema"),
        None => &key["schema"],
    };
    let documented: Vec<&str> = schema["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let catalog: Vec<&str> = app::configs::catalog::names().collect();
    assert_eq!(documented, catalog);
    app.stop().await;
}

/// Strings as an attacker sends them: any Unicode, control characters (U+0000 above all), long,
/// or plausible.
fn hostile_string() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        any::<String>(),
        "[a-z][a-z0-9-]{0,12}",
        any::<String>().prop_map(|s| format!("x\u{0}{s}")),
        (0usize..3000).prop_map(|n| "é".repeat(n)),
        Just("\u{202E}\u{200B}\u{FEFF}".to_owned()),
    ]
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn no_json_body_makes_any_endpoint_fail_with_a_5xx(_: PgPoolOptions, options: PgConnectOptions) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, body) = app.guest(&admin, org, "admin").await;
    let key = body["me"]["user_key"].as_str().expect("user key").to_owned();
    let project = app.create_project(&owner, org, "Checkout").await;
    // Deterministic: the same bodies every run.
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strings = hostile_string();
    let mut s = || strings.new_tree(&mut runner).expect("a string").current();
    for round in 0..40 {
        // Every operation that takes a JSON body, as someone allowed to call it, with a body of
        // the right shape whose every text is hostile: that is what reaches the database.
        let cases: Vec<(Method, String, &str, Value)> = vec![
            (
                Method::POST,
                "/api/v1/auth/admin".into(),
                "",
                json!({"credential": s()}),
            ),
            (
                Method::POST,
                "/api/v1/auth/guest".into(),
                "",
                json!({"invite_code": s()}),
            ),
            (
                Method::POST,
                "/api/v1/orgs".into(),
                &admin,
                json!({"slug": s(), "name": s()}),
            ),
            (
                Method::POST,
                format!("/api/v1/orgs/{org}/projects"),
                &owner,
                json!({"name": s()}),
            ),
            (
                Method::PUT,
                format!("/api/v1/orgs/{org}/projects/{project}/members/{key}"),
                &owner,
                json!({"role": s()}),
            ),
            (
                Method::PUT,
                format!("/api/v1/orgs/{org}/configs/features"),
                &owner,
                json!({"value": {s(): true}, "reason": s()}),
            ),
            (
                Method::PUT,
                format!("/api/v1/orgs/{org}/configs/chat.poll_templates"),
                &owner,
                json!({"value": [{"id": s(), "question": s(), "choices": [s(), s()]}], "reason": s()}),
            ),
            (
                Method::POST,
                format!("/api/v1/orgs/{org}/projects/{project}/polls"),
                &owner,
                json!({"template": s()}),
            ),
        ];
        for (method, path, token, body) in cases {
            let mut request = app.http.request(method.clone(), app.url(&path)).json(&body);
            if !token.is_empty() {
                request = request
                    .bearer_auth(token)
                    .header("If-Match", "\"1\"")
                    .header("Idempotency-Key", format!("fuzz-{round}"));
            }
            let response = request.send().await.expect("answers");
            assert!(
                !response.status().is_server_error(),
                "{method} {path} with {body} answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
    }
    app.stop().await;
}

/// Resident memory of this process (the test and the app it runs), in KiB.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// 2,000 junk requests, 8 at a time: made-up methods, deep paths, ids that exist nowhere, bad
/// tokens, oversized request ids and truncated bodies. Returns every 5xx seen.
async fn junk_flood(app: &TestApp, admin: &str, org: Uuid, round: u32) -> Vec<String> {
    let mut tasks = Vec::new();
    for worker in 0..8u32 {
        let http = app.http.clone();
        let base = app.url("");
        let admin = admin.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut server_errors = Vec::new();
            for i in 0..250u32 {
                let n = round * 100_000 + worker * 1000 + i;
                let method = match n % 5 {
                    0 => Method::GET,
                    1 => Method::POST,
                    2 => Method::DELETE,
                    3 => Method::from_bytes(format!("JUNK{n}").as_bytes()).expect("token"),
                    _ => Method::PUT,
                };
                let path = match n % 4 {
                    0 => format!("/api/v1/orgs/{org}/projects/{n}"),
                    1 => format!("/{}", "a/".repeat((n % 700) as usize)),
                    2 => format!("/api/v1/orgs/{org}/configs/k{n}"),
                    _ => format!("/api/v1/orgs/{}/invites", Uuid::new_v4()),
                };
                let response = http
                    .request(method.clone(), format!("{base}{path}"))
                    .bearer_auth(if n.is_multiple_of(2) {
                        admin.as_str()
                    } else {
                        "junk.token.here"
                    })
                    .header("X-Request-Id", "r".repeat(2000))
                    .header("Content-Type", "application/json")
                    .body(format!("{{\"name\": \"{}\"", "z".repeat((n % 3000) as usize)))
                    .send()
                    .await
                    .expect("answers");
                if response.status().is_server_error() {
                    server_errors.push(format!("{method} {path}: {}", response.status()));
                }
            }
            server_errors
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("worker"));
    }
    all
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_bounded_flood_of_junk_requests_leaves_no_5xx_and_no_growth(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let started = std::time::Instant::now();
    // The first flood fills every series the junk can reach (a fixed set: methods x route
    // templates x statuses); a second one with other values must add none, nor memory.
    assert_eq!(junk_flood(&app, &admin, org, 0).await, Vec::<String>::new());
    let (metrics_before, memory_before) = (app.metrics_text().await.len(), resident_kib());
    assert_eq!(junk_flood(&app, &admin, org, 1).await, Vec::<String>::new());
    let (metrics_after, memory_after) = (app.metrics_text().await.len(), resident_kib());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the floods stop by themselves"
    );
    // Counters gain digits, nothing more.
    assert!(
        metrics_after < metrics_before + 1024,
        "/metrics grew from {metrics_before} to {metrics_after} bytes"
    );
    assert!(
        memory_after < memory_before + 32 * 1024,
        "resident memory grew from {memory_before} KiB to {memory_after} KiB"
    );
    app.stop().await;
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn answers_hyper_writes_itself_are_empty_and_close_the_connection(_: PgPoolOptions, options: PgConnectOptions) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(&options).await;
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "a malformed request line",
            b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec(),
            "400",
        ),
        (
            "a control byte in a header",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n".to_vec(),
            "400",
        ),
        ("a 1 MB header", huge.into_bytes(), "431"),
    ];
    for (what, request, status) in cases {
        let mut tcp = tokio::net::TcpStream::connect(app.addr).await.expect("connects");
        let _ = tcp.write_all(&request).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(answer.starts_with(&format!("http/1.1 {status} ")), "{what}: {answer}");
        // What docs/auth.md says of them: no body and the connection closed, and none of the
        // security headers (hyper writes them before any of the app's code runs).
        assert!(answer.contains("\r\ncontent-length: 0\r\n"), "{what}: {answer}");
        assert!(answer.contains("\r\nconnection: close\r\n"), "{what}: {answer}");
        assert!(answer.ends_with("\r\n\r\n"), "{what}: {answer}");
        assert!(!answer.contains("content-security-policy"), "{what}: {answer}");
    }
    app.stop().await;
}
