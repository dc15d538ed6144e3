//! First-run setup, signing in and out, and the login rate limit.

use crate::harness::{PASSWORD, TestApp};
use axum::http::StatusCode;

#[tokio::test]
async fn setup_creates_the_first_owner_and_then_closes() {
    let app = TestApp::new().await;
    let mut browser = app.client();

    let login = browser.get("/login").await;
    assert_eq!(
        login.status,
        StatusCode::SEE_OTHER,
        "with no users, sign-in sends to setup"
    );
    assert_eq!(login.header("location"), "/setup");

    let bad = browser
        .post_raw_form(
            "/setup",
            &[
                ("workspace", "Acme MSP"),
                ("currency", "dollars"),
                ("country", "GB"),
                ("time_zone", "Europe/London"),
                ("name", "Ana"),
                ("email", "ana@acme.example"),
                ("password", "short"),
            ],
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text
            .contains("is not a three-letter ISO 4217 currency code"),
        "{}",
        bad.text
    );
    assert!(bad.text.contains("must be at least 10 characters long"));

    let done = browser
        .post_raw_form(
            "/setup",
            &[
                ("workspace", "Acme MSP"),
                ("currency", "gbp"),
                ("country", "GB"),
                ("time_zone", "Europe/London"),
                ("name", "Ana Silva"),
                ("email", "ana@acme.example"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains("Good to see you, Ana Silva"));

    let again = app.client().get("/setup").await;
    assert_eq!(
        again.status,
        StatusCode::SEE_OTHER,
        "setup is closed once a user exists"
    );
    let forced = app
        .client()
        .post_raw_form(
            "/setup",
            &[
                ("workspace", "Evil"),
                ("email", "e@evil.example"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sign_in_and_out() {
    let app = TestApp::new().await;
    app.tenant("Acme MSP", "ana@acme.example").await;

    let anonymous = app.client().get("/crm/clients").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.header("location"), "/login?next=%2Fcrm%2Fclients");

    let mut wrong = app.client();
    let refused = wrong
        .post_raw_form(
            "/login",
            &[
                ("email", "ana@acme.example"),
                ("password", "wrong password!"),
            ],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .text
            .contains("That email and password do not match an account.")
    );

    let mut browser = app.signed_in("ANA@acme.example ").await;
    assert_eq!(browser.get("/crm/clients").await.status, StatusCode::OK);
    let csrf = browser.csrf().expect("token on the page");
    let out = browser
        .post_raw_form("/logout", &[("csrf_token", &csrf)], &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.get("/crm/clients").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_are_slowed_down() {
    let app = TestApp::new().await;
    app.tenant("Acme MSP", "ana@acme.example").await;

    let mut attacker = app.client();
    for attempt in 1..=5 {
        let reply = attacker
            .post_raw_form(
                "/login",
                &[
                    ("email", "ana@acme.example"),
                    ("password", "guess guess guess"),
                ],
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let limited = attacker
        .post_raw_form(
            "/login",
            &[
                ("email", "ana@acme.example"),
                ("password", "guess guess guess"),
            ],
            &[],
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.text.contains("Too many sign-in attempts. Wait"),
        "{}",
        limited.text
    );
    let wait: u64 = limited
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=20).contains(&wait));

    // Even the right password waits until the limit passes.
    let right = attacker
        .post_raw_form(
            "/login",
            &[
                ("email", "ana@acme.example"),
                ("password", crate::harness::PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
}
