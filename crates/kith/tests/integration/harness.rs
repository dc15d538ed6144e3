//! The test harness: a fresh database per test (a SQLite file, or a PostgreSQL schema), the
//! whole app in-process, and a small client that keeps cookies and CSRF tokens.
//!
//! `KITH_TEST_BACKEND=postgres` runs the suite on PostgreSQL (`KITH_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`); anything else runs it on SQLite.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use kith_domain::tenant::NewTenant;
use kith_domain::{Email, Role, TenantId};
use kith_store::users::NewUser;
use kith_store::{Backend, Db, migrations, tenants, users};
use kith_web::{AppState, WebConfig};
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

/// One test's world: its own database and the app on top of it.
pub struct TestApp {
    pub db: Db,
    pub router: Router,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "kith_t_{}_{}_{n}",
        std::process::id(),
        nanos % 1_000_000_000
    )
}

pub fn backend() -> Backend {
    match std::env::var("KITH_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

impl TestApp {
    pub async fn new() -> Self {
        let db = match backend() {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
                Db::connect_sqlite(SqliteConnectOptions::new().filename(&path))
                    .await
                    .expect("sqlite opens")
            }
            Backend::Postgres => postgres_schema().await,
        };
        migrations::run(&db).await.expect("migrations run");
        let router = kith_web::app(AppState::new(db.clone(), WebConfig::default()));
        Self { db, router }
    }

    /// Creates a workspace with an owner; returns its id.
    pub async fn tenant(&self, name: &str, owner_email: &str) -> TenantId {
        let tenant = NewTenant::parse(name, "USD", "GB", "Europe/London").expect("valid tenant");
        let mut tx = self.db.begin().await.expect("tx");
        let id = tenants::create(&mut tx, &tenant).await.expect("tenant");
        users::create(&mut tx, id, &new_user(owner_email, Role::Owner))
            .await
            .expect("owner");
        tx.commit().await.expect("commit");
        id
    }

    /// Adds a user with `role` to a workspace.
    pub async fn user(&self, tenant: TenantId, email: &str, role: Role) {
        let mut tx = self.db.begin().await.expect("tx");
        users::create(&mut tx, tenant, &new_user(email, role))
            .await
            .expect("user");
        tx.commit().await.expect("commit");
    }

    /// A client signed in as `email` (password [`PASSWORD`]).
    pub async fn signed_in(&self, email: &str) -> Client {
        let mut client = self.client();
        let response = client
            .post_form("/login", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "sign-in of {email}: {}",
            response.text
        );
        client.refresh_csrf().await;
        client
    }

    /// An API token for `email`.
    pub async fn token(&self, email: &str, read_only: bool) -> String {
        let (user, _) = users::find_for_login(&self.db, email)
            .await
            .expect("lookup")
            .expect("user exists");
        kith_web::auth::create_api_token(&self.db, &user, "test", read_only)
            .await
            .expect("token")
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    pub fn api(&self, token: &str) -> Client {
        Client {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: Some(token.to_owned()),
        }
    }
}

pub const PASSWORD: &str = "correct horse battery";

fn new_user(email: &str, role: Role) -> NewUser {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH
        .get_or_init(|| kith_web::password::hash(PASSWORD).expect("hash"))
        .clone();
    NewUser {
        email: Email::parse(email).expect("valid email"),
        name: email.split('@').next().unwrap_or("user").to_owned(),
        password_hash: hash,
        role,
        time_zone: "Europe/London".into(),
    }
}

async fn postgres_schema() -> Db {
    let url = std::env::var("KITH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = unique_name();
    let admin = Db::connect(&url).await.expect("postgres reachable");
    admin
        .execute_script(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("schema created");
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .expect("url")
        .options([("search_path", format!("{schema},public"))]);
    Db::connect_postgres(options)
        .await
        .expect("postgres schema opens")
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Talks to the in-process app like a browser (cookie + CSRF token) or a script (bearer token).
pub struct Client {
    router: Router,
    cookie: Option<String>,
    pub csrf: Option<String>,
    bearer: Option<String>,
}

impl Client {
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "kith.test");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(token) = &self.bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("infallible");

        let status = response.status();
        let headers = response.headers().clone();
        if let Some(set) = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None, Vec::new(), &[]).await
    }

    /// Posts a form, adding the session's CSRF token.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.clone().unwrap_or_default();
        if self.csrf.is_some() {
            all.push(("csrf_token", &csrf));
        }
        self.post_raw_form(path, &all, &[]).await
    }

    /// Posts exactly these fields, with extra headers.
    pub async fn post_raw_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            extra,
        )
        .await
    }

    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> Reply {
        self.send(
            method,
            path,
            Some("application/json"),
            serde_json::to_vec(body).expect("json"),
            extra,
        )
        .await
    }

    /// Reads the CSRF token from a page, as a browser form would carry it.
    pub async fn refresh_csrf(&mut self) {
        let page = self.get("/settings").await;
        self.csrf = extract_between(&page.text, "name=\"csrf_token\" value=\"", "\"");
    }

    pub fn csrf(&self) -> Option<String> {
        self.csrf.clone()
    }
}

/// The text between `start` and the next `end`.
pub fn extract_between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}

/// Every `href="/crm/<kind>/<id>"` id in a page, in order, without repeats.
pub fn linked_ids(html: &str, kind: &str) -> Vec<i64> {
    let marker = format!("href=\"/crm/{kind}/");
    let mut ids = Vec::new();
    for part in html.split(&marker).skip(1) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(id) = digits.parse::<i64>()
            && part[digits.len()..].starts_with('"')
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

/// `text` as the templates escape it for HTML.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
