//! The UI in real headless Chromium (Debian's `chromium` and `chromium-driver`, driven over
//! WebDriver with fantoccini): two browsers, each on its own app replica, sharing the real
//! PostgreSQL and Redis.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::TestApp;
use fantoccini::error::{CmdError, ErrorStatus, WebDriver};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

/// Debian's paths; `CHROMIUM` and `CHROMEDRIVER` name others (GitHub's runners ship Chrome and
/// its driver elsewhere, and the rendered app workflow sets both).
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver_path() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// chromedriver and the browsers it starts, in a process group of their own. Dropping this (at
/// the end of a test, or as a failed one unwinds) kills the whole group: killing chromedriver
/// alone would leave its Chromium running.
struct Driver(tokio::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id().and_then(|pid| i32::try_from(pid).ok()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}

async fn chromedriver() -> (Driver, String) {
    let port = test_support::free_port();
    let child = tokio::process::Command::new(chromedriver_path())
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts (apt-get install chromium chromium-driver)");
    let url = format!("http://127.0.0.1:{port}");
    crate::support::wait_until_up(&format!("{url}/status")).await;
    (Driver(child), url)
}

async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=430,1100", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a browser session")
}

/// chromedriver, a fresh profile, and one browser on `url`. Keep the driver and the profile as
/// long as the browser.
async fn one_browser(url: &str) -> (Driver, tempfile::TempDir, Client) {
    let (driver, driver_url) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile");
    let page = browser(&driver_url, profile.path()).await;
    page.goto(url).await.expect("page");
    (driver, profile, page)
}

/// axe-core's script (npm `axe-core`, which `scripts/test` installs; `PLATFORM_AXE_JS` names it).
fn axe_source() -> String {
    let path = std::env::var("PLATFORM_AXE_JS").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/platform-tools/axe/node_modules/axe-core/axe.min.js")
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("axe-core not at {path} ({e}): run scripts/test, or npm install axe-core and set PLATFORM_AXE_JS")
    })
}

/// Runs axe-core (WCAG 2.x A and AA rules) over the page as it is now and fails on any serious or
/// critical violation, naming each rule, why it matters and the elements it found.
async fn assert_accessible(browser: &Client, view: &str) {
    let found = browser
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1];
                 if (!window.axe) {{ {} }}
                 axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => `${{v.id}} (${{v.impact}}): ${{v.help}}: ${{v.nodes.map(n => n.target.join(' ')).join(', ')}}`)))
                   .catch(e => done([`axe failed: ${{e}}`]));",
                axe_source()
            ),
            vec![],
        )
        .await
        .expect("axe runs in the page");
    let violations: Vec<String> = serde_json::from_value(found).expect("a list");
    assert!(
        violations.is_empty(),
        "{view}: serious or critical accessibility violations:\n{}",
        violations.join("\n")
    );
}

/// Saves the view as it is now at a phone's width and a desktop's (under `target/tmp/screens/`,
/// where docs/screenshots/ is copied from), then goes back to the phone's.
async fn snap(browser: &Client, name: &str) {
    snap_showing(browser, name, None).await;
}

/// As [`snap`], with the element `css` scrolled to the middle of each shot: the part of a long
/// page that the shot is about.
async fn snap_showing(browser: &Client, name: &str, css: Option<&str>) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&dir).expect("screens folder");
    for (width, height, label) in [(1280, 900, "desktop"), (430, 1100, "phone")] {
        browser.set_window_size(width, height).await.expect("resize");
        if let Some(css) = css {
            browser
                .execute(
                    "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
                    vec![json!(css)],
                )
                .await
                .expect("scroll to the element");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let png = browser.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).expect("saved");
    }
}

/// Waits until the element's text satisfies `ok`; returns it.
async fn text_until(browser: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut last = None;
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if ok(&text) {
                return text;
            }
            last = Some(text);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let shown = browser
                .execute("return document.getElementById('status')?.textContent ?? ''", vec![])
                .await
                .unwrap_or_default();
            panic!("{css} never matched (last {last:?}); the page's status line says {shown}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the element `css` finds, once it is there; when a re-render replaces it between
/// finding and clicking, finds it again, and while the page is still laying out (another element
/// is where it is about to be), clicks again a moment later.
async fn click(browser: &Client, css: &str) {
    let started = Instant::now();
    loop {
        let element = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .expect(css);
        match element.click().await {
            Ok(()) => return,
            Err(e) if e.is_stale_element_reference() && started.elapsed() < Duration::from_secs(10) => continue,
            Err(CmdError::Standard(WebDriver {
                error: ErrorStatus::ElementClickIntercepted,
                ..
            })) if started.elapsed() < Duration::from_secs(10) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("click {css}: {e}"),
        }
    }
}

/// Signs in through the page with an invite code; returns the guest's key.
async fn sign_in(browser: &Client, app: &TestApp, code: &str) -> String {
    browser.goto(&app.url("/")).await.expect("page");
    let input = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("invite-code"))
        .await
        .expect("form");
    assert_accessible(browser, "the sign-in page").await;
    snap(browser, "sign-in").await;
    input.send_keys(code).await.expect("type");
    click(browser, "#sign-in-form button[type=submit]").await;
    let who = text_until(browser, "#whoami", |t| t.contains("guest-")).await;
    who.trim_start_matches("Signed in as ").to_owned()
}

/// An invite code for `org` with `role`, minted by `admin` (set-up, through the API).
async fn invite(app: &TestApp, admin: &str, org: Uuid, role: &str) -> String {
    let (status, invite) = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invites"),
            Some(admin),
            Some(json!({"role": role})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    invite["code"].as_str().expect("code").to_owned()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn two_browsers_on_two_replicas_share_live_counters_and_the_cap(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "acme").await;
    let (owner, _) = a.guest(&admin, org, "admin").await; // guest-0001
    let project = a.create_project(&owner, org, "web").await;
    let (first_code, second_code) = (
        invite(&a, &admin, org, "member").await,
        invite(&a, &admin, org, "member").await,
    );

    let (_driver, driver_url) = chromedriver().await;
    let profiles = tempfile::tempdir().expect("profiles");
    let one = browser(&driver_url, &profiles.path().join("one")).await;
    let two = browser(&driver_url, &profiles.path().join("two")).await;
    // Browser one on replica a, browser two on replica b; each guest joins the project.
    let key = sign_in(&one, &a, &first_code).await;
    a.add_member(&owner, org, project, &key).await;
    text_until(&one, &format!("button[data-project='{project}']"), |t| !t.is_empty()).await;
    assert_accessible(&one, "the projects page").await;
    snap(&one, "projects").await;
    click(&one, &format!("button[data-project='{project}']")).await;
    let key = sign_in(&two, &b, &second_code).await;
    a.add_member(&owner, org, project, &key).await;
    click(&two, &format!("button[data-project='{project}']")).await;

    // Each opens a chat; browser one presses Ready; browser two (other replica) sees it.
    click(&one, "#open-chat").await;
    click(&two, "#open-chat").await;
    text_until(&two, "#session-count", |t| t.contains("1 of 3")).await;
    click(&one, "#actions button[data-action='ready']").await;
    text_until(&two, "dd[data-metric='ready']", |t| t == "1").await;
    text_until(&one, "#log li", |t| t.contains("Ready")).await;
    // An echo of another chat that reached this page's socket is not shown in this chat's log.
    let session = one
        .execute(
            "return document.querySelector('#sessions button.active').dataset.session",
            vec![],
        )
        .await
        .expect("the open chat");
    let stray = serde_json::json!({
        "type": "echo", "session": Uuid::new_v4(), "action": "ready", "assistant": "available",
        "reply": "a stray echo of another chat", "sent_at_us": 0,
    });
    let redis = redis::Client::open(crate::support::redis_url()).expect("url");
    let mut conn = redis.get_multiplexed_async_connection().await.expect("redis");
    let _: i64 = redis::AsyncCommands::publish(
        &mut conn,
        format!("chat:s:{project}:{}", session.as_str().expect("a session id")),
        stray.to_string(),
    )
    .await
    .expect("published");
    click(&one, "#actions button[data-action='ready']").await;
    let started = std::time::Instant::now();
    while one
        .execute("return document.querySelectorAll('#log li').length", vec![])
        .await
        .expect("count")
        .as_u64()
        < Some(2)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the second echo never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = text_of(&one, "log").await;
    assert!(!log.contains("stray"), "{log}");
    assert_accessible(&one, "the project page with a chat open").await;
    snap(&one, "project-chat").await;

    // A 4th chat closes the oldest. Each new chat is the one the page marks once it is open; the
    // count alone says "3 of 3" before the 4th is.
    let marked = || async {
        one.execute(
            "return document.querySelector('#sessions button.active')?.dataset.session ?? null",
            vec![],
        )
        .await
        .expect("read the marked chat")
    };
    for n in 2..=4 {
        let before = marked().await;
        click(&one, "#open-chat").await;
        let started = Instant::now();
        while [before.clone(), json!(null)].contains(&marked().await) {
            assert!(started.elapsed() < Duration::from_secs(10), "chat {n} never opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let expected = format!("{} of 3", n.min(3));
        text_until(&one, "#session-count", |t| t.contains(&expected)).await;
    }
    let token = one
        .execute("return sessionStorage.getItem('token')", vec![])
        .await
        .expect("token");
    let (_, sessions) = a
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/projects/{project}/chats"),
            token.as_str(),
            None,
        )
        .await;
    // The server keeps three, and the chat the page shows is the newest of them.
    assert_eq!(sessions.as_array().map(Vec::len), Some(3));
    // The list re-renders as chats open and close: the marked chat is read in one step, until
    // the page has settled (a found element can go stale before its attribute is read).
    let newest = sessions[2]["id"].clone();
    let started = Instant::now();
    loop {
        let shown = marked().await;
        if shown == newest {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the page marks {shown}, not the newest chat: {sessions}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A chat closed from the page leaves two.
    click(&one, "#sessions button[data-close]").await;
    text_until(&one, "#session-count", |t| t.contains("2 of 3")).await;

    one.close().await.expect("close");
    two.close().await.expect("close");
    a.stop().await;
    b.stop().await;
}

/// An org admin, through the page alone: opens the settings, changes a key with a reason, meets
/// a change made meanwhile elsewhere (412: the page says what changed and keeps the text), saves
/// over it, and reads the history.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_org_admin_edits_a_config_through_a_conflict_and_reads_its_history(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let code = invite(&app, &admin, org, "admin").await;
    let (_driver, _profile, page) = one_browser(&app.url("/")).await;
    sign_in(&page, &app, &code).await;

    click(&page, "#open-settings").await;
    text_until(&page, "td[data-version='ui.banner']", |t| t == "1").await;
    // Quotas are the platform admin's: no editor is offered for them.
    text_until(&page, "td[data-set-by='quotas']", |t| t == "set by the platform admin").await;
    assert!(
        page.find(Locator::Css("button[data-edit='quotas']")).await.is_err(),
        "an Edit button for quotas"
    );
    click(&page, "button[data-edit='ui.banner']").await;
    let value = page.find(Locator::Id("config-value")).await.expect("editor");
    value.clear().await.expect("clear");
    value.send_keys(r#""Welcome""#).await.expect("type");
    // No reason: refused on the page, nothing sent.
    click(&page, "#config-save").await;
    text_until(&page, "#config-error", |t| t.contains("reason goes into the history")).await;
    fill(&page, "config-reason", "greet the team").await;
    click(&page, "#config-save").await;
    text_until(&page, "td[data-version='ui.banner']", |t| t == "2").await;

    // Someone else changes it meanwhile, from version 2.
    let token = page
        .execute("return sessionStorage.getItem('token')", vec![])
        .await
        .expect("token");
    let response = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/orgs/{org}/configs/ui.banner")))
        .bearer_auth(token.as_str().expect("a token"))
        .header("If-Match", "\"2\"")
        .json(&json!({"value": "Maintenance tonight", "reason": "ops"}))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::OK);

    // The page's editor is still based on version 2: its save is refused, and it says why.
    value.clear().await.expect("clear");
    value.send_keys(r#""Welcome back""#).await.expect("type");
    click(&page, "#config-save").await;
    let conflict = text_until(&page, "#config-error", |t| t.contains("Changed meanwhile")).await;
    assert!(
        conflict.contains("now version 3") && conflict.contains("Maintenance tonight"),
        "{conflict}"
    );
    // The replica check of the save before (it polls for 3 s) stopped when this save began:
    // it would show the other admin's version 3 as this page's change "not yet" served.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let served = text_of(&page, "replica-versions").await;
    assert_eq!(served, "", "a stale replica check");
    assert_accessible(&page, "the settings page with a refused change").await;
    snap(&page, "settings-conflict").await;
    // The dark theme, chosen on the page, holds to the same rules (contrast included).
    click(&page, "#theme").await;
    assert_accessible(&page, "the settings page, dark theme").await;
    snap(&page, "settings-conflict-dark").await;
    click(&page, "#theme").await;
    let kept = page
        .execute("return document.getElementById('config-value').value", vec![])
        .await
        .expect("read");
    assert_eq!(kept, json!(r#""Welcome back""#), "the admin's text is kept");
    click(&page, "#config-save").await;
    text_until(&page, "td[data-version='ui.banner']", |t| t == "4").await;

    // The history, newest first: this change, the other one, the first, the org's default.
    let started = Instant::now();
    let reasons = loop {
        let reasons = page
            .execute(
                "return [...document.querySelectorAll('#history-rows tr')].map(r => r.cells[2].textContent)",
                vec![],
            )
            .await
            .expect("history");
        if reasons.as_array().is_some_and(|r| r.len() == 4) || started.elapsed() > Duration::from_secs(10) {
            break reasons;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        reasons,
        json!(["greet the team", "ops", "greet the team", "org defaults"])
    );
    page.close().await.expect("close");
    app.stop().await;
}

/// The platform admin, through the page alone: signs in with the admin credential, creates an
/// org with a double submit (one Idempotency-Key: one org, and the page shows it COMMITTED), and
/// mints the invite its first admin then signs in with.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_platform_admin_creates_an_org_once_and_invites_its_first_admin(
    _: PgPoolOptions,
    options: PgConnectOptions,
) {
    let app = TestApp::spawn(&options).await;
    let (_driver, driver_url) = chromedriver().await;
    let profiles = tempfile::tempdir().expect("profiles");
    let page = browser(&driver_url, &profiles.path().join("admin")).await;
    page.goto(&app.url("/")).await.expect("page");
    page.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("admin-credential"))
        .await
        .expect("form")
        .send_keys(&app.admin_credential())
        .await
        .expect("type");
    click(&page, "#admin-sign-in-form button[type=submit]").await;
    text_until(&page, "#whoami", |t| t.contains("platform admin")).await;
    assert_accessible(&page, "the platform admin's page").await;

    fill(&page, "org-slug", "acme").await;
    fill(&page, "org-name", "Acme").await;
    // Two submits before the first answer: both carry the form's one Idempotency-Key.
    page.execute(
        "window.sentKeys = [];
         const fetched = window.fetch;
         window.fetch = (url, init) => {
           if (String(url).endsWith('/api/v1/orgs')) window.sentKeys.push(init.headers['Idempotency-Key']);
           return fetched(url, init);
         };
         const form = document.getElementById('create-org-form');
         form.requestSubmit(); form.requestSubmit(); return true;",
        vec![],
    )
    .await
    .expect("submit twice");
    let outcome = text_until(&page, "#org-outcome", |t| {
        t.contains("COMMITTED") || t.contains("not created")
    })
    .await;
    assert_eq!(outcome, "acme: COMMITTED");
    let keys = page.execute("return window.sentKeys", vec![]).await.expect("keys");
    let keys: Vec<String> = serde_json::from_value(keys).expect("strings");
    assert!(
        keys.len() >= 2 && keys.iter().all(|k| *k == keys[0]),
        "both submits carry the form's one key: {keys:?}"
    );
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations")
        .fetch_one(&sqlx::PgPool::connect_with(options.clone()).await.expect("pool"))
        .await
        .expect("count");
    assert_eq!(orgs, 1, "a double submit makes one org");

    click(&page, "#mint-admin-invite").await;
    let code = text_until(&page, "#admin-invite-code", |t| t.starts_with("inv_")).await;

    // Revoking a token by its id: an empty form is refused on the page; a guest's token id
    // locks that guest out.
    click(&page, "#revoke-token-form button[type=submit]").await;
    text_until(&page, "#revoke-token-error", |t| t.contains("jti")).await;
    let admin = app.admin_token().await;
    let other = app.create_org(&admin, "other").await;
    let (guest, signed_in) = app.guest(&admin, other, "member").await;
    let jti = signed_in["jti"].as_str().expect("jti").to_owned();
    fill(&page, "revoke-token-id", &jti).await;
    click(&page, "#revoke-token-form button[type=submit]").await;
    text_until(&page, "#status", |t| t.contains("revoked on every replica")).await;
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&guest), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the revoked guest is locked out");
    // The double submit's second request, told to retry while the first ran, got the first's
    // answer with the same key, and the page still says so.
    let outcome = text_of(&page, "org-outcome").await;
    assert_eq!(outcome, "acme: COMMITTED");
    assert_accessible(&page, "the platform admin's page with a new org").await;
    snap(&page, "platform-admin").await;
    page.close().await.expect("close");

    // The code signs its first admin in, who sees the org's admin controls.
    let first = browser(&driver_url, &profiles.path().join("first")).await;
    sign_in(&first, &app, &code).await;
    text_until(&first, "#open-invites", |t| t == "Invites").await;
    first.close().await.expect("close");
    app.stop().await;
}

/// An org admin, through the page alone: mints an invite with two uses and a short life, sees
/// its code once and in the list, and withdraws it; a bad number is refused at its field.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_org_admin_mints_lists_and_withdraws_invites(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let code = invite(&app, &admin, org, "admin").await;
    let (_driver, _profile, page) = one_browser(&app.url("/")).await;
    sign_in(&page, &app, &code).await;
    click(&page, "#open-invites").await;
    text_until(&page, "#invite-count", |t| t.starts_with("0 ")).await;

    let uses = page.find(Locator::Id("invite-uses")).await.expect("uses");
    uses.clear().await.expect("clear");
    uses.send_keys("500").await.expect("type");
    click(&page, "#mint-invite-form button[type=submit]").await;
    text_until(&page, "#invite-error", |t| t.contains("from 1 to 100")).await;
    let invalid = page
        .execute(
            "return document.getElementById('invite-uses').getAttribute('aria-invalid')",
            vec![],
        )
        .await
        .expect("read");
    assert_eq!(invalid, json!("true"), "the error is tied to its field");
    assert_accessible(&page, "the invites page with a refused number").await;
    snap(&page, "invites-refused").await;

    uses.clear().await.expect("clear");
    uses.send_keys("2").await.expect("type");
    let hours = page.find(Locator::Id("invite-hours")).await.expect("hours");
    hours.clear().await.expect("clear");
    hours.send_keys("3").await.expect("type");
    click(&page, "#mint-invite-form button[type=submit]").await;
    let code = text_until(&page, "#new-invite-code", |t| t.starts_with("inv_")).await;
    text_until(&page, "#invite-count", |t| t.starts_with("1 ")).await;
    let listed = text_until(&page, "#invite-rows tr", |t| t.contains("member")).await;
    assert!(listed.contains("member") && listed.contains('2'), "{listed}");
    let (status, _) = app.redeem(&code).await;
    assert_eq!(status, StatusCode::OK, "the code minted on the page works");

    click(&page, "#invite-rows tr button").await;
    text_until(&page, "#invite-count", |t| t.starts_with("0 ")).await;
    page.close().await.expect("close");
    app.stop().await;
}

/// Two people on two replicas, through the page alone after set-up: an org admin creates a
/// project, adds a guest and makes them an owner, lowers the chat rate limit in the settings;
/// the guest's chat says the assistant is away and, past the burst the limit allows, to slow down; the
/// admin ends the guest's sessions, and the guest's page goes back to signing in, saying why.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_admin_manages_a_guest_whose_page_shows_every_state(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    // The guest's replica asks an assistant that takes connections and never answers, so each
    // echo comes the assistant's timeout after its action: after the refusal of a later one.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a silent assistant");
    let settings = crate::support::settings(
        &options,
        json!({"assistant_url": format!("http://{}", silent.local_addr().expect("its address"))}),
    );
    let b = TestApp::spawn_with(settings, std::sync::Arc::new(app::orgs::gate::NoGate)).await;
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "acme").await;
    let (owner_code, guest_code) = (
        invite(&a, &admin, org, "admin").await,
        invite(&a, &admin, org, "member").await,
    );
    let (_driver, driver_url) = chromedriver().await;
    let profiles = tempfile::tempdir().expect("profiles");
    let one = browser(&driver_url, &profiles.path().join("one")).await;
    let two = browser(&driver_url, &profiles.path().join("two")).await;
    sign_in(&one, &a, &owner_code).await;
    let guest = sign_in(&two, &b, &guest_code).await;

    // The admin creates the project and adds the guest, then makes them an owner.
    fill(&one, "project-name", "web").await;
    click(&one, "#new-project-form button[type=submit]").await;
    text_until(&one, "#projects button", |t| t == "web").await;
    click(&one, "#projects button").await;
    text_until(&one, "#member-rows", |t| t.contains("guest-0001")).await;
    fill(&one, "member-key", &guest).await;
    click(&one, "#add-member-form button[type=submit]").await;
    text_until(&one, &format!("tr[data-member='{guest}']"), |t| t.contains(&guest)).await;
    one.execute(
        "const select = document.querySelector(`tr[data-member='${arguments[0]}'] select`);
         select.value = 'owner'; select.dispatchEvent(new Event('change')); return true;",
        vec![json!(guest)],
    )
    .await
    .expect("make owner");
    text_until(&one, "#status", |t| t.contains("now an owner")).await;
    // A poll for the guest to find, and (as an owner now) to delete.
    click(&one, "#poll-templates button").await;
    assert_accessible(&one, "the project page as its manager").await;
    snap(&one, "project-members").await;

    // The admin allows one chat action a minute.
    click(&one, "#back").await;
    click(&one, "#open-settings").await;
    click(&one, "button[data-edit='chat.rate_limit_per_minute']").await;
    let value = one.find(Locator::Id("config-value")).await.expect("editor");
    value.clear().await.expect("clear");
    value.send_keys("1").await.expect("type");
    fill(&one, "config-reason", "quiet week").await;
    click(&one, "#config-save").await;
    text_until(&one, "td[data-version='chat.rate_limit_per_minute']", |t| t == "2").await;

    // The guest, on the other replica: no assistant runs here, so the chat says so; the second
    // action in the minute is refused with a request to slow down.
    two.refresh().await.expect("reload");
    click(&two, "#projects button").await;
    click(&two, "#open-chat").await;
    // The socket is open once its snapshot has drawn the counters.
    text_until(&two, "dd[data-metric='ready']", |t| t == "0").await;
    text_until(&two, "#polls li", |t| t.contains("Ship it today?")).await;
    click(&two, "#polls button[data-delete-poll]").await;
    let started = Instant::now();
    while two.find(Locator::Css("#polls li")).await.is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the deleted poll stays on the page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    click(&two, "#actions button[data-action='ready']").await;
    text_until(&two, "#assistant-state", |t| t.contains("assistant is unavailable")).await;
    // A burst of 3 is allowed (docs/chat-protocol.md); the next action is refused.
    for _ in 0..3 {
        click(&two, "#actions button[data-action='ready']").await;
    }
    text_until(&two, "#chat-state", |t| t.starts_with("Slow down")).await;
    // The three accepted actions' late echoes do not hide the refusal.
    let started = Instant::now();
    while two
        .execute("return document.querySelectorAll('#log li').length", vec![])
        .await
        .expect("count the log")
        != json!(3)
    {
        assert!(started.elapsed() < Duration::from_secs(10), "the echoes never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(text_of(&two, "chat-state").await.starts_with("Slow down"));
    assert_accessible(&two, "the guest's chat, rate limited").await;
    snap_showing(&two, "chat-rate-limited", Some("#chat-state")).await;

    // The admin ends every session of the guest: the guest's page is back at signing in.
    click(&one, "#settings-back").await;
    click(&one, "#open-invites").await;
    fill(&one, "revoke-guest-key", &guest).await;
    click(&one, "#revoke-guest-form button[type=submit]").await;
    text_until(&one, "#status", |t| t.contains("has ended")).await;
    let notice = text_until(&two, "#notice", |t| t.contains("session ended")).await;
    assert!(notice.contains("Sign in again"), "{notice}");
    assert_accessible(&two, "the sign-in page after a revocation").await;
    snap(&two, "signed-out").await;
    one.close().await.expect("close");
    two.close().await.expect("close");
    a.stop().await;
    b.stop().await;
}

/// Presses Tab until the focused element matches `css` (at most 40 tries); fails naming where
/// the focus went instead.
async fn tab_to(browser: &Client, css: &str) {
    for _ in 0..40 {
        let there = browser
            .execute("return document.activeElement.matches(arguments[0])", vec![json!(css)])
            .await
            .expect("read the focus");
        if there == json!(true) {
            return;
        }
        // A view re-rendering can replace the focused element between finding and pressing it:
        // look again.
        let pressed = match browser.active_element().await {
            Ok(element) => element.send_keys(&Key::Tab.to_string()).await.is_ok(),
            Err(_) => false,
        };
        if !pressed {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let at = browser
        .execute("return document.activeElement.outerHTML.slice(0, 120)", vec![])
        .await
        .expect("read the focus");
    panic!("Tab never reached {css}; the focus is on {at}");
}

/// Tabs to the element `css` and presses Enter on it.
async fn enter_on(browser: &Client, css: &str) {
    tab_to(browser, css).await;
    press(browser, Key::Enter).await;
}

/// The text of the element with the id `id`, now.
async fn text_of(browser: &Client, id: &str) -> String {
    browser
        .find(Locator::Id(id))
        .await
        .expect("the element")
        .text()
        .await
        .expect("text")
}

/// Types `text` into the field with the id `id`.
async fn fill(browser: &Client, id: &str, text: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .expect("the field")
        .send_keys(text)
        .await
        .expect("type");
}

/// Types `text` into the focused element.
async fn type_keys(browser: &Client, text: &str) {
    browser
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(text)
        .await
        .expect("type");
}

/// Presses `key` on the focused element.
async fn press(browser: &Client, key: Key) {
    browser
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(&key.to_string())
        .await
        .expect("key");
}

/// Signs in with the keyboard alone: Tab to the invite code, type it, Enter. Returns who the page
/// says is signed in.
async fn sign_in_by_keyboard(page: &Client, code: &str) -> String {
    tab_to(page, "#invite-code").await;
    type_keys(page, code).await;
    press(page, Key::Enter).await;
    let whoami = text_until(page, "#whoami", |t| t.contains("guest-")).await;
    whoami.trim_start_matches("Signed in as ").to_owned()
}

/// A guest with the keyboard alone: Tab to the invite code, type it, Enter; Tab to the project,
/// Enter; open a chat and press an action with Enter. Every step is reachable and visible focus
/// lands where the next key expects it.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_guest_signs_in_and_chats_with_the_keyboard_alone(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (owner, _) = app.guest(&admin, org, "admin").await;
    let project = app.create_project(&owner, org, "web").await;
    let code = invite(&app, &admin, org, "member").await;
    let (_driver, _profile, page) = one_browser(&app.url("/")).await;

    assert_eq!(sign_in_by_keyboard(&page, &code).await, "guest-0002");
    // Set-up the page cannot do for a guest: the project's owner adds them.
    app.add_member(&owner, org, project, "guest-0002").await;
    enter_on(&page, &format!("button[data-project='{project}']")).await;
    text_until(&page, "#project-title", |t| t == "web").await;
    enter_on(&page, "#open-chat").await;
    text_until(&page, "dd[data-metric='ready']", |t| t == "0").await;
    enter_on(&page, "#actions button[data-action='ready']").await;
    text_until(&page, "dd[data-metric='ready']", |t| t == "1").await;
    page.close().await.expect("close");
    app.stop().await;
}

/// The admins with the keyboard alone: the platform admin signs in, creates an org and mints its
/// first admin's invite; that admin signs in with it, mints an invite of their own and changes
/// a setting. Tab, typing and Enter only.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_admins_work_with_the_keyboard_alone(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let (_driver, _profile, page) = one_browser(&app.url("/")).await;

    tab_to(&page, "#admin-credential").await;
    type_keys(&page, &app.admin_credential()).await;
    press(&page, Key::Enter).await;
    text_until(&page, "#whoami", |t| t.contains("platform admin")).await;
    assert_eq!(text_of(&page, "page-heading").await, "Platform administration");
    assert_eq!(
        page.title().await.expect("title"),
        "Platform administration · Projects and chat"
    );
    tab_to(&page, "#org-slug").await;
    type_keys(&page, "acme").await;
    tab_to(&page, "#org-name").await;
    type_keys(&page, "Acme").await;
    press(&page, Key::Enter).await;
    text_until(&page, "#org-outcome", |t| t == "acme: COMMITTED").await;
    enter_on(&page, "#mint-admin-invite").await;
    let code = text_until(&page, "#admin-invite-code", |t| t.starts_with("inv_")).await;
    enter_on(&page, "#sign-out").await;
    // Signing out reloads the page.
    text_until(&page, "#whoami", str::is_empty).await;

    // The org's first admin, on the same page.
    sign_in_by_keyboard(&page, &code).await;
    enter_on(&page, "#open-invites").await;
    enter_on(&page, "#mint-invite-form button[type=submit]").await;
    text_until(&page, "#new-invite-code", |t| t.starts_with("inv_")).await;
    enter_on(&page, "#invites-back").await;
    enter_on(&page, "#open-settings").await;
    text_until(&page, "td[data-version='ui.banner']", |t| t == "1").await;
    enter_on(&page, "button[data-edit='ui.banner']").await;
    // The editor takes the focus; select its text and type over it.
    text_until(&page, "#config-editor-title", |t| t.contains("ui.banner")).await;
    type_keys(&page, &format!("{}a{}", Key::Control, Key::Null)).await;
    type_keys(&page, r#""Typed, not clicked""#).await;
    tab_to(&page, "#config-reason").await;
    type_keys(&page, "keyboard only").await;
    press(&page, Key::Enter).await;
    text_until(&page, "td[data-version='ui.banner']", |t| t == "2").await;
    let banner: String = sqlx::query_scalar("SELECT value_json #>> '{}' FROM service_configs WHERE key = 'ui.banner'")
        .fetch_one(&sqlx::PgPool::connect_with(options.clone()).await.expect("pool"))
        .await
        .expect("banner");
    assert_eq!(banner, "Typed, not clicked");
    page.close().await.expect("close");
    app.stop().await;
}

/// A project's owner with the keyboard alone: signs in, opens the project, adds a guest of the
/// org and makes them an owner, opens a chat, starts a poll, votes in it, deletes it, and removes
/// the guest again. PostgreSQL holds each change the page reports.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_project_owner_works_with_the_keyboard_alone(_: PgPoolOptions, options: PgConnectOptions) {
    let app = TestApp::spawn(&options).await;
    let db = sqlx::PgPool::connect_with(options.clone()).await.expect("pool");
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "acme").await;
    let (org_admin, _) = app.guest(&admin, org, "admin").await;
    let project = app.create_project(&org_admin, org, "web").await;
    let (_, colleague) = app.guest(&org_admin, org, "member").await;
    let colleague = colleague["me"]["user_key"].as_str().expect("user key").to_owned();
    let code = invite(&app, &admin, org, "member").await;
    let (_driver, _profile, page) = one_browser(&app.url("/")).await;

    let owner = sign_in_by_keyboard(&page, &code).await;
    assert_eq!(text_of(&page, "page-heading").await, "Projects");
    // Set-up the page cannot do for this guest: the org admin makes them the project's owner.
    let path = format!("/api/v1/orgs/{org}/projects/{project}/members/{owner}");
    let (status, body) = app
        .call(Method::PUT, &path, Some(&org_admin), Some(json!({"role": "owner"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    enter_on(&page, &format!("button[data-project='{project}']")).await;
    text_until(&page, "#project-title", |t| t == "web").await;

    let role = |key: String| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT m.role FROM project_members m JOIN users u ON u.id = m.user_id WHERE u.user_key = $1",
            )
            .bind(key)
            .fetch_optional(&db)
            .await
            .expect("role")
        }
    };
    tab_to(&page, "#member-key").await;
    type_keys(&page, &colleague).await;
    press(&page, Key::Enter).await;
    let row = format!("tr[data-member='{colleague}']");
    text_until(&page, &row, |t| t.contains(&colleague)).await;
    assert_eq!(role(colleague.clone()).await.as_deref(), Some("member"));
    tab_to(&page, &format!("{row} select")).await;
    press(&page, Key::Down).await;
    text_until(&page, "#status", |t| t.contains("now an owner")).await;
    assert_eq!(role(colleague.clone()).await.as_deref(), Some("owner"));

    enter_on(&page, "#open-chat").await;
    text_until(&page, "dd[data-metric='ready']", |t| t == "0").await;
    enter_on(&page, "#poll-templates button").await;
    text_until(&page, "#polls li", |t| t.contains("Ship it today?")).await;
    enter_on(&page, "#polls button[data-choice='yes']").await;
    text_until(&page, "#polls button[data-choice='yes']", |t| t == "yes (1)").await;
    enter_on(&page, "#polls button[data-delete-poll]").await;
    text_until(&page, "#status", |t| t == "Poll deleted.").await;
    let polls: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_polls")
        .fetch_one(&db)
        .await
        .expect("polls");
    assert_eq!(polls, 0);

    enter_on(&page, &format!("{row} button")).await;
    text_until(&page, "#status", |t| t.contains("no longer in the project")).await;
    assert_eq!(role(colleague.clone()).await, None);
    assert_accessible(&page, "the project page of its owner").await;
    page.close().await.expect("close");
    app.stop().await;
}

/// Hot reload made visible: two replicas behind a round-robin balancer (Debian's nginx), the
/// page on the balancer's origin. After an org admin's change, the page lists both replicas,
/// each serving the new version.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn after_a_change_the_page_shows_every_replica_serving_it(_: PgPoolOptions, options: PgConnectOptions) {
    let a = TestApp::spawn(&options).await;
    let b = TestApp::spawn(&options).await;
    let balancer = crate::support::servers::Balancer::start(&[a.addr, b.addr]);
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "acme").await;
    let code = invite(&a, &admin, org, "admin").await;
    let (_driver, _profile, page) = one_browser(&balancer.url("/")).await;
    page.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("invite-code"))
        .await
        .expect("form")
        .send_keys(&code)
        .await
        .expect("type");
    click(&page, "#sign-in-form button[type=submit]").await;
    text_until(&page, "#whoami", |t| t.contains("guest-")).await;
    click(&page, "#open-settings").await;
    click(&page, "button[data-edit='ui.banner']").await;
    let value = page.find(Locator::Id("config-value")).await.expect("editor");
    value.clear().await.expect("clear");
    value.send_keys(r#""Hot""#).await.expect("type");
    fill(&page, "config-reason", "reload").await;
    click(&page, "#config-save").await;
    let served = text_until(&page, "#replica-versions", |t| {
        t.matches(": version 2").count() == 2 && !t.contains("not yet")
    })
    .await;
    for replica in [&a, &b] {
        assert!(served.contains(&replica.state.replica), "{served}");
    }
    assert_accessible(&page, "the settings page after a change, per replica").await;
    snap(&page, "settings-replicas").await;
    page.close().await.expect("close");
    drop(balancer);
    a.stop().await;
    b.stop().await;
}
