//! The activity log at its edges (#4): paging over instants finer than a cursor, DST folds in
//! the edit form, names with commas, the feed's all-day events, the last storable year, and
//! isolation, roles, CSRF and markup on every activity path.

use crate::harness::{Client, TestApp, extract_between};
use axum::http::{Method, StatusCode};
use chrono::{DateTime, Days, Utc};
use kith_domain::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn post(api: &mut Client, body: Value) -> Value {
    let reply = api
        .json(Method::POST, "/api/v1/activities", &body, &[])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

async fn set_zone(browser: &mut Client, name: &str, zone: &str) {
    let reply = browser
        .post_form("/settings/profile", &[("name", name), ("time_zone", zone)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
}

/// The `value="…"` of the input named `name` in a form page.
fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} input"));
    let rest = &html[at..];
    extract_between(rest, "value=\"", "\"").unwrap_or_default()
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .collect()
}

/// Walks every page of `query` through `next_cursor`.
async fn all_pages(api: &mut Client, query: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            Some(c) => format!("/api/v1/activities?{query}&cursor={c}"),
            None => format!("/api/v1/activities?{query}"),
        };
        let reply = api.get(&url).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.text);
        let page = reply.json();
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
    panic!("more than 100 pages for {query}: {seen:?}");
}

/// Saving the edit form unchanged must not move an activity in time. In Europe/London the
/// clocks go back on 2025-10-26, so 01:30 local happens twice: 00:30Z (BST) and 01:30Z (GMT).
#[tokio::test]
async fn saving_the_edit_form_unchanged_keeps_an_instant_in_the_repeated_dst_hour() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut browser = app.signed_in("owner@acme.example").await;

    let mut moved = Vec::new();
    for (instant, label) in [
        ("2025-10-26T01:30:00Z", "second 01:30 of the DST overlap"),
        ("2025-05-18T10:00:45Z", "an instant with seconds"),
    ] {
        let made = post(
            &mut api,
            json!({"type": "Call", "subject": "Overlap call", "occurred_at": instant, "completed": false}),
        )
        .await;
        let id = made["id"].as_i64().expect("id");
        let form = browser.get(&format!("/crm/activities/{id}/edit")).await;
        assert_eq!(form.status, StatusCode::OK);
        let occurred = input_value(&form.text, "occurred_at");
        let version = input_value(&form.text, "version");
        let owner = made["owner"].as_i64().expect("owner").to_string();
        let saved = browser
            .post_form(
                &format!("/crm/activities/{id}"),
                &[
                    ("version", &version),
                    ("type", "Call"),
                    ("subject", "Overlap call (renamed)"),
                    ("occurred_at", &occurred),
                    ("due_date", ""),
                    ("duration", ""),
                    ("client", ""),
                    ("contacts", ""),
                    ("deal", ""),
                    ("owner", &owner),
                    ("outcome", ""),
                    ("notes", ""),
                    ("follow_up_date", ""),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let after = api.get(&format!("/api/v1/activities/{id}")).await.json();
        let expected: DateTime<Utc> = instant.parse().expect("instant");
        let actual: DateTime<Utc> = after["occurred_at"]
            .as_str()
            .expect("occurred_at")
            .parse()
            .expect("instant");
        if actual != expected {
            moved.push(format!(
                "{label}: {expected} became {actual} (the form showed {occurred:?})"
            ));
        }
    }
    assert!(
        moved.is_empty(),
        "renaming moved activities in time: {moved:#?}"
    );
}

/// `to=9999-12-31` is a valid date and must not drop timed activities.
#[tokio::test]
async fn a_far_future_to_date_keeps_timed_activities() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let call = post(
        &mut api,
        json!({"type": "Call", "subject": "Timed", "occurred_at": "2025-05-18T10:00:00Z"}),
    )
    .await;
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "Dated", "due_date": "2025-05-18"}),
    )
    .await;
    let everything = api.get("/api/v1/activities").await.json();
    assert_eq!(everything["total"], 2);

    for query in [
        "to=9999-12-31",
        "from=2000-01-01&to=9999-12-31",
        "status=upcoming&to=9999-12-31",
    ] {
        let listed = api.get(&format!("/api/v1/activities?{query}")).await;
        assert_eq!(listed.status, StatusCode::OK, "{query}: {}", listed.text);
        let found: BTreeSet<i64> = ids(&listed.json()).into_iter().collect();
        if query.starts_with("status") {
            continue;
        }
        let want: BTreeSet<i64> = [call["id"].as_i64(), task["id"].as_i64()]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(found, want, "{query}");
    }
}

/// Keyset paging must neither skip nor repeat rows whose instants carry sub-microsecond
/// digits (RFC 3339 allows nanoseconds, and the API accepts them).
#[tokio::test]
async fn cursor_paging_does_not_skip_or_repeat_activities_with_nanosecond_instants() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut made = BTreeSet::new();
    for n in 0..4 {
        let a = post(
            &mut api,
            json!({"type": "Call", "subject": format!("Precise call {n}"), "occurred_at": "2025-05-18T10:00:00.123456789Z"}),
        )
        .await;
        made.insert(a["id"].as_i64().expect("id"));
    }
    for sort in ["when", "-when"] {
        let seen = all_pages(&mut api, &format!("limit=1&sort={sort}")).await;
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!(
            (seen.len(), unique),
            (made.len(), made.clone()),
            "sort={sort}: pages gave {seen:?}"
        );
    }
}

/// Keyset paging with filters and a search: every match once.
#[tokio::test]
async fn cursor_paging_with_filters_and_search_gives_every_match_once() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut renewals = BTreeSet::new();
    for n in 0..7 {
        // Ties on the sort column on purpose.
        let a = post(&mut api, json!({"type": "Task", "subject": format!("Renewal step {n}"), "due_date": "2030-01-10"})).await;
        renewals.insert(a["id"].as_i64().expect("id"));
        post(
            &mut api,
            json!({"type": "Task", "subject": format!("Other {n}"), "due_date": "2030-01-10"}),
        )
        .await;
    }
    for query in [
        "search=renewal&limit=2",
        "search=renewal&limit=2&sort=when",
        "search=renewal&limit=3&status=upcoming&type=Task",
        "search=renewal&limit=2&sort=-created",
        "search=renewal&limit=2&sort=-updated",
        "search=renewal&limit=2&from=2030-01-10&to=2030-01-10",
    ] {
        let seen = all_pages(&mut api, query).await;
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!(
            (seen.len(), unique),
            (renewals.len(), renewals.clone()),
            "{query}"
        );
    }
}

/// C16 for activities: case, accents and NFD alike.
#[tokio::test]
async fn c16_activity_search_ignores_case_and_accents_in_both_directions() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    // "José García" with combining accents (NFD).
    let nfd = "Jose\u{301} Garci\u{301}a called";
    post(&mut api, json!({"type": "Note", "subject": nfd})).await;
    post(
        &mut api,
        json!({"type": "Note", "subject": "ACME renewal call"}),
    )
    .await;
    post(
        &mut api,
        json!({"type": "Note", "subject": "Visit", "notes": "Met at Häusler AG"}),
    )
    .await;
    for (query, subject) in [
        ("jose%20garcia", nfd),
        ("JOS%C3%89", nfd),
        ("Garc%C3%ADa", nfd),
        ("acme", "ACME renewal call"),
        ("hausler", "Visit"),
        ("h%C3%A4us", "Visit"),
    ] {
        let found = api
            .get(&format!("/api/v1/activities?search={query}"))
            .await
            .json();
        let subjects: Vec<&str> = found["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|a| a["subject"].as_str())
            .collect();
        assert_eq!(subjects, [subject], "search={query}");
    }
}

/// The iCalendar feed: TEXT escaping, 75-octet folding and UTF-8, checked on the raw text
/// and through the icalendar parser.
#[tokio::test]
async fn the_calendar_feed_escapes_folds_and_keeps_utf8() {
    use icalendar::{Calendar, CalendarComponent, Component};

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "agent@acme.example", Role::Member).await;
    app.tenant("Other", "owner@other.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Smith, Jones; and \\ Partners"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let soon = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(3))
        .expect("date");
    let tricky = "Call back: Ana, Ben; re \\ pricing — naïve café ☕ 日本語のテキスト 🎉🎉🎉 and a long tail to force folding past seventy-five octets";
    post(
        &mut api,
        json!({"type": "Task", "subject": tricky, "client": client, "due_date": soon.to_string()}),
    )
    .await;
    // Owned by me but created by the agent: still mine.
    let agent_token = app.token("agent@acme.example", false).await;
    let mut agent = app.api(&agent_token);
    let (me, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    post(&mut agent, json!({"type": "Task", "subject": "Assigned to owner", "owner": me.id, "due_date": soon.to_string()})).await;
    post(
        &mut agent,
        json!({"type": "Task", "subject": "Agent's own", "due_date": soon.to_string()}),
    )
    .await;
    let done = post(&mut api, json!({"type": "Task", "subject": "Done task", "due_date": soon.to_string(), "completed": true})).await;
    assert_eq!(done["completed"], true);
    let other_token = app.token("owner@other.example", false).await;
    let mut other = app.api(&other_token);
    post(
        &mut other,
        json!({"type": "Task", "subject": "Other tenant", "due_date": soon.to_string()}),
    )
    .await;

    let mut browser = app.signed_in("owner@acme.example").await;
    let made = browser.post_form("/settings/calendar-feed", &[]).await;
    let url =
        extract_between(&made.text, r#"id="new-feed-url">"#, "</code>").expect("feed address");
    let path = format!(
        "/{}",
        url.split_once("://")
            .and_then(|(_, r)| r.split_once('/'))
            .expect("path")
            .1
    );
    let feed = app.client().get(&path).await;
    assert_eq!(feed.status, StatusCode::OK);
    for line in feed.text.split("\r\n") {
        assert!(line.len() <= 75, "line of {} octets: {line:?}", line.len());
    }
    assert!(
        !feed.text.replace("\r\n", "").contains('\n'),
        "bare LF in the feed"
    );
    let calendar: Calendar = feed.text.parse().expect("parses");
    let mut summaries: Vec<String> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => e.get_summary().map(str::to_owned),
            _ => None,
        })
        .collect();
    summaries.sort();
    let mut expected = vec![
        "Task: Assigned to owner".to_owned(),
        format!("Task: {tricky}"),
    ];
    expected.sort();
    assert_eq!(summaries, expected);
    let description = calendar
        .components
        .iter()
        .find_map(|c| match c {
            CalendarComponent::Event(e) if e.get_summary() == Some(&format!("Task: {tricky}")) => {
                e.get_description().map(str::to_owned)
            }
            _ => None,
        })
        .expect("description");
    assert_eq!(description, "Client: Smith, Jones; and \\ Partners");
}

/// A viewer's writes are 403 on the pages as well as the API; a read-only token cannot write.
#[tokio::test]
async fn viewers_and_read_only_tokens_cannot_write_activities_anywhere() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "viewer@acme.example", Role::Viewer).await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "Owner's task", "due_date": "2030-01-10"}),
    )
    .await;
    let id = task["id"].as_i64().expect("id");

    let mut viewer = app.signed_in("viewer@acme.example").await;
    for (path, fields) in [
        (
            "/crm/activities".to_owned(),
            vec![("type", "Task"), ("subject", "Viewer wrote")],
        ),
        (
            format!("/crm/activities/{id}"),
            vec![
                ("version", "1"),
                ("type", "Task"),
                ("subject", "Viewer edit"),
            ],
        ),
        (
            format!("/crm/activities/{id}/complete"),
            vec![("version", "1"), ("follow_up_date", "2030-02-01")],
        ),
        (
            format!("/crm/activities/{id}/reopen"),
            vec![("version", "1")],
        ),
        (
            format!("/crm/activities/{id}/delete"),
            vec![("version", "1")],
        ),
    ] {
        let reply = viewer.post_form(&path, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert_eq!(
        viewer.get("/crm/activities/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .get(&format!("/crm/activities/{id}/edit"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let read_only = app.token("owner@acme.example", true).await;
    let mut reader = app.api(&read_only);
    let path = format!("/api/v1/activities/{id}");
    let attempts = [
        (
            Method::POST,
            "/api/v1/activities".to_owned(),
            json!({"type": "Task", "subject": "x"}),
        ),
        (
            Method::PATCH,
            path.clone(),
            json!({"subject": "x", "version": 1}),
        ),
        (
            Method::POST,
            format!("{path}/complete"),
            json!({"version": 1}),
        ),
        (
            Method::POST,
            format!("{path}/reopen"),
            json!({"version": 1}),
        ),
    ];
    for (method, url, body) in attempts {
        let reply = reader.json(method.clone(), &url, &body, &[]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {url}");
    }
    let delete = reader
        .send(Method::DELETE, &path, None, Vec::new(), &[])
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let still = api.get(&path).await.json();
    assert_eq!(still["subject"], "Owner's task");
    assert_eq!(still["completed"], false);
    assert_eq!(api.get("/api/v1/activities").await.json()["total"], 1);
}

/// Forms without the CSRF token are refused and change nothing.
#[tokio::test]
async fn activity_forms_need_the_csrf_token() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "Guarded", "due_date": "2030-01-10"}),
    )
    .await;
    let id = task["id"].as_i64().expect("id");
    let mut browser = app.signed_in("owner@acme.example").await;
    for (path, fields) in [
        (
            "/crm/activities".to_owned(),
            vec![("type", "Task"), ("subject", "Forged")],
        ),
        (
            format!("/crm/activities/{id}/complete"),
            vec![("version", "1")],
        ),
        (
            format!("/crm/activities/{id}/delete"),
            vec![("version", "1")],
        ),
        ("/settings/calendar-feed".to_owned(), vec![]),
    ] {
        let reply = browser.post_raw_form(&path, &fields, &[]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    let still = api.get(&format!("/api/v1/activities/{id}")).await.json();
    assert_eq!(still["completed"], false);
    assert_eq!(api.get("/api/v1/activities").await.json()["total"], 1);
}

/// Another tenant's client, contact, deal or owner cannot be linked, on create, update, or
/// through the form; each refusal names the field.
#[tokio::test]
async fn another_tenants_records_cannot_be_linked_to_an_activity() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    app.tenant("Bravo", "owner@bravo.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let bravo_token = app.token("owner@bravo.example", false).await;
    let mut bravo = app.api(&bravo_token);
    let b_client = bravo
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Bravo Co"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let b_contact = bravo
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Zed", "email": "zed@bravo.example"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("contact");
    let b_deal = bravo
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Bravo deal"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("deal");
    let (b_owner, _) = kith_store::users::find_for_login(&app.db, "owner@bravo.example")
        .await
        .expect("lookup")
        .expect("owner");

    for (field, body) in [
        (
            "client",
            json!({"type": "Task", "subject": "x", "client": b_client}),
        ),
        (
            "contacts[0]",
            json!({"type": "Task", "subject": "x", "contacts": [b_contact]}),
        ),
        (
            "deal",
            json!({"type": "Task", "subject": "x", "deal": b_deal}),
        ),
        (
            "owner",
            json!({"type": "Task", "subject": "x", "owner": b_owner.id}),
        ),
    ] {
        let reply = api
            .json(Method::POST, "/api/v1/activities", &body, &[])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.text
        );
        assert_eq!(reply.json()["errors"][0]["field"], field, "{}", reply.text);
    }
    let mine = post(
        &mut api,
        json!({"type": "Task", "subject": "Mine", "due_date": "2030-01-10"}),
    )
    .await;
    let path = format!("/api/v1/activities/{}", mine["id"]);
    for (field, body) in [
        ("client", json!({"client": b_client, "version": 1})),
        (
            "contacts[0]",
            json!({"contacts": [b_contact], "version": 1}),
        ),
        ("deal", json!({"deal": b_deal, "version": 1})),
        ("owner", json!({"owner": b_owner.id, "version": 1})),
    ] {
        let reply = api.json(Method::PATCH, &path, &body, &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.text
        );
        assert_eq!(reply.json()["errors"][0]["field"], field, "{}", reply.text);
    }
    // Through the form.
    let mut browser = app.signed_in("owner@acme.example").await;
    for (field, value) in [
        ("client", format!("Bravo Co (#{b_client})")),
        ("contacts", format!("#{b_contact}")),
        ("contacts", "zed@bravo.example".to_owned()),
        ("deal", b_deal.to_string()),
        ("owner", b_owner.id.to_string()),
    ] {
        let reply = browser
            .post_form(
                "/crm/activities",
                &[
                    ("type", "Task"),
                    ("subject", "Form link"),
                    ("due_date", "2030-01-10"),
                    (field, &value),
                ],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
    }
    assert_eq!(api.get("/api/v1/activities").await.json()["total"], 1);
    // Filtering by another tenant's ids finds nothing (and leaks no name).
    for param in [
        format!("client={b_client}"),
        format!("contact={b_contact}"),
        format!("deal={b_deal}"),
    ] {
        let page = browser.get(&format!("/crm/activities?{param}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("Bravo"), "{param} leaked a name");
        assert!(!page.text.contains("Zed"), "{param} leaked a name");
    }
}

/// Markup in subjects, outcomes, notes and client names shows as text on every page that
/// lists activities.
#[tokio::test]
async fn markup_in_activities_shows_as_text_everywhere() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": format!("Client {evil}")}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let contact = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "\"><svg/onload=alert(3)>", "last_name": "X", "client": client}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("contact");
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": format!("Deal {evil}"), "client": client}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("deal");
    let today = Utc::now().date_naive().to_string();
    let a = post(&mut api, json!({"type": "Task", "subject": format!("Subject {evil}"), "notes": format!("Notes {evil} [x](javascript:alert(4))"), "outcome": format!("Outcome {evil}"), "client": client, "contacts": [contact], "deal": deal, "due_date": today})).await;
    let done = post(&mut api, json!({"type": "Call", "subject": format!("Done {evil}"), "client": client, "occurred_at": "2025-01-01T10:00:00Z"})).await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let id = a["id"].as_i64().expect("id");
    let follow = api
        .json(
            Method::POST,
            &format!("/api/v1/activities/{}/complete", done["id"]),
            &json!({"version": 1, "follow_up": {"due_date": today, "subject": format!("FU {evil}")}}),
            &[],
        )
        .await;
    assert_eq!(follow.status, StatusCode::OK, "{}", follow.text);
    for page in [
        "/".to_owned(),
        "/crm/activities".to_owned(),
        format!("/crm/activities/{id}"),
        format!("/crm/activities/{id}/edit"),
        format!("/crm/clients/{client}"),
        format!("/crm/contacts/{contact}"),
        format!("/crm/deals/{deal}"),
        format!("/crm/activities?client={client}"),
        format!("/crm/activities?deal={deal}"),
        format!("/crm/activities?contact={contact}"),
        "/search?q=Subject".to_owned(),
    ] {
        let reply = browser.get(&page).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        for raw in [
            "<script>alert",
            "<img src=x",
            "<svg/onload",
            "href=\"javascript:",
        ] {
            assert!(!reply.text.contains(raw), "{page} contains raw {raw}");
        }
    }
}

/// Bad input is refused with the field named; oversized and control-character input too.
#[tokio::test]
async fn bad_activity_input_names_the_field() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let cases = [
        (
            "subject",
            json!({"type": "Task", "subject": "x".repeat(301)}),
        ),
        ("subject", json!({"type": "Task", "subject": "a\u{0}b"})),
        ("subject", json!({"type": "Task", "subject": "line\nbreak"})),
        (
            "notes",
            json!({"type": "Task", "subject": "s", "notes": "n".repeat(50_001)}),
        ),
        (
            "notes",
            json!({"type": "Task", "subject": "s", "notes": "nul\u{0}"}),
        ),
        (
            "outcome",
            json!({"type": "Task", "subject": "s", "outcome": "o".repeat(1_001)}),
        ),
        (
            "due_date",
            json!({"type": "Task", "subject": "s", "due_date": "2025-02-30"}),
        ),
        (
            "due_date",
            json!({"type": "Task", "subject": "s", "due_date": "2025-5-1"}),
        ),
        (
            "occurred_at",
            json!({"type": "Task", "subject": "s", "occurred_at": "2025-03-30T01:30"}),
        ),
        (
            "occurred_at",
            json!({"type": "Task", "subject": "s", "occurred_at": "yesterday"}),
        ),
        (
            "occurred_at",
            json!({"type": "Task", "subject": "s", "occurred_at": "2025-13-01T10:00:00Z"}),
        ),
        (
            "follow_up_date",
            json!({"type": "Task", "subject": "s", "follow_up_date": "31/12/2025"}),
        ),
        (
            "duration",
            json!({"type": "Task", "subject": "s", "duration": 100_000}),
        ),
        (
            "duration",
            json!({"type": "Task", "subject": "s", "duration": 99_999_999_999_i64}),
        ),
        (
            "duration",
            json!({"type": "Task", "subject": "s", "duration": "30"}),
        ),
        ("type", json!({"type": "Smoke signal", "subject": "s"})),
        (
            "contacts",
            json!({"type": "Task", "subject": "s", "contacts": (1..=51).collect::<Vec<i64>>()}),
        ),
        (
            "client",
            json!({"type": "Task", "subject": "s", "client": "Harbor"}),
        ),
    ];
    for (field, body) in cases {
        let reply = api
            .json(Method::POST, "/api/v1/activities", &body, &[])
            .await;
        assert!(
            reply.status == StatusCode::UNPROCESSABLE_ENTITY
                || reply.status == StatusCode::BAD_REQUEST,
            "{field}: {} {}",
            reply.status,
            reply.text
        );
        let problem = reply.json();
        let named = problem["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .any(|e| e["field"].as_str().unwrap_or_default().starts_with(field))
            })
            .unwrap_or(false);
        assert!(named, "{field} not named: {}", reply.text);
    }
    assert_eq!(api.get("/api/v1/activities").await.json()["total"], 0);

    // The follow-up of a completion.
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "t", "due_date": "2030-01-10"}),
    )
    .await;
    let path = format!("/api/v1/activities/{}/complete", task["id"]);
    for (field, body) in [
        (
            "follow_up.due_date",
            json!({"version": 1, "follow_up": {"due_date": "2030-02-30"}}),
        ),
        (
            "follow_up.due_date",
            json!({"version": 1, "follow_up": {"due_date": ""}}),
        ),
        (
            "follow_up.type",
            json!({"version": 1, "follow_up": {"due_date": "2030-02-01", "type": "Nope"}}),
        ),
        (
            "follow_up.subject",
            json!({"version": 1, "follow_up": {"due_date": "2030-02-01", "subject": "a\u{7}b"}}),
        ),
    ] {
        let reply = api.json(Method::POST, &path, &body, &[]).await;
        assert!(reply.status.is_client_error(), "{field}: {}", reply.status);
        assert_eq!(reply.json()["errors"][0]["field"], field, "{}", reply.text);
    }
    let after = api
        .get(&format!("/api/v1/activities/{}", task["id"]))
        .await
        .json();
    assert_eq!(after["completed"], false, "nothing half-written");
    assert_eq!(after["version"], 1);
}

/// "Due today" and "overdue" in the caller's zone, checked through the API with zones 25
/// hours apart: at every moment they are on different days.
#[tokio::test]
async fn due_today_follows_the_callers_zone_through_the_api() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "east@acme.example").await;
    app.user(tenant, "west@acme.example", Role::Member).await;
    let mut east = app.signed_in("east@acme.example").await;
    set_zone(&mut east, "East", "Pacific/Kiritimati").await;
    let mut west = app.signed_in("west@acme.example").await;
    set_zone(&mut west, "West", "Pacific/Pago_Pago").await;
    let east_today = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Kiritimati)
        .date_naive();
    let west_today = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Pago_Pago)
        .date_naive();
    assert_ne!(east_today, west_today);

    let east_token = app.token("east@acme.example", false).await;
    let mut east_api = app.api(&east_token);
    let west_token = app.token("west@acme.example", false).await;
    let mut west_api = app.api(&west_token);
    let task = post(
        &mut east_api,
        json!({"type": "Task", "subject": "Due east today", "due_date": east_today.to_string()}),
    )
    .await;
    assert_eq!(task["status"], "due_today");
    let seen_west = west_api
        .get(&format!("/api/v1/activities/{}", task["id"]))
        .await
        .json();
    assert_eq!(seen_west["status"], "upcoming");
    assert_eq!(
        seen_west["due_date"],
        east_today.to_string(),
        "never shifts"
    );
    let now_call = post(&mut west_api, json!({"type": "Call", "subject": "Now", "occurred_at": Utc::now().to_rfc3339(), "completed": false})).await;
    for api in [&mut east_api, &mut west_api] {
        let got = api
            .get(&format!("/api/v1/activities/{}", now_call["id"]))
            .await
            .json();
        assert_eq!(got["status"], "due_today");
    }
    let today_west = west_api
        .get("/api/v1/activities?status=due_today")
        .await
        .json();
    assert_eq!(ids(&today_west), [now_call["id"].as_i64().expect("id")]);
    let today_east = east_api
        .get("/api/v1/activities?status=due_today")
        .await
        .json();
    assert_eq!(today_east["total"], 2);
}

/// Completing twice and reopening an open activity are harmless; a follow-up dated in the
/// past is refused or at least never silently dropped.
#[tokio::test]
async fn completing_and_reopening_edge_cases() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "Edge", "due_date": "2030-01-10"}),
    )
    .await;
    let path = format!("/api/v1/activities/{}", task["id"]);
    // Reopening an open one changes nothing.
    let reopened = api
        .json(
            Method::POST,
            &format!("{path}/reopen"),
            &json!({"version": 1}),
            &[],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert_eq!(reopened.json()["version"], 1);
    let first = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 1}),
            &[],
        )
        .await
        .json();
    let completed_at = first["activity"]["completed_at"].clone();
    let second = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 2}),
            &[],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(
        second.json()["activity"]["completed_at"],
        completed_at,
        "completing again keeps the first completion"
    );
    // No version, and a malformed If-Match.
    let none = api
        .json(Method::POST, &format!("{path}/complete"), &json!({}), &[])
        .await;
    assert_eq!(none.status, StatusCode::PRECONDITION_REQUIRED);
    let bad = api
        .json(
            Method::POST,
            &format!("{path}/reopen"),
            &json!({}),
            &[("if-match", "\"abc\"")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["errors"][0]["field"], "If-Match");
}

/// Deleting a client, deal, contact or user that has activities keeps the activities and
/// every page that shows them working.
#[tokio::test]
async fn deleting_linked_records_keeps_activities_and_their_pages() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "agent@acme.example", Role::Member).await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Gone Co"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let contact = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Gone", "email": "gone@x.example", "client": client}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("contact");
    let keep = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Kept", "email": "kept@x.example"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("contact");
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Gone deal", "client": client}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("deal");
    let (agent, _) = kith_store::users::find_for_login(&app.db, "agent@acme.example")
        .await
        .expect("lookup")
        .expect("agent");
    let a = post(&mut api, json!({"type": "Task", "subject": "Linked", "client": client, "contacts": [contact, keep], "deal": deal, "owner": agent.id, "due_date": "2030-01-10"})).await;
    let id = a["id"].as_i64().expect("id");
    let agent_token = app.token("agent@acme.example", false).await;
    let mut agent_api = app.api(&agent_token);
    let completed = agent_api
        .json(
            Method::POST,
            &format!("/api/v1/activities/{id}/complete"),
            &json!({"version": 1}),
            &[],
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.text);

    for path in [
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/deals/{deal}"),
        format!("/api/v1/clients/{client}"),
    ] {
        let gone = api.send(Method::DELETE, &path, None, Vec::new(), &[]).await;
        assert!(
            gone.status.is_success(),
            "DELETE {path}: {} {}",
            gone.status,
            gone.text
        );
    }
    let mut browser = app.signed_in("owner@acme.example").await;
    let removed = browser
        .post_form(&format!("/settings/users/{}/delete", agent.id), &[])
        .await;
    assert!(
        removed.status.is_redirection() || removed.status.is_success(),
        "{} {}",
        removed.status,
        removed.text
    );
    let after = api.get(&format!("/api/v1/activities/{id}")).await;
    assert_eq!(after.status, StatusCode::OK);
    let after = after.json();
    assert_eq!(after["client"], Value::Null);
    assert_eq!(after["deal"], Value::Null);
    assert_eq!(after["owner"], Value::Null);
    assert_eq!(after["contacts"], json!([keep]));
    assert_eq!(
        after["completed"], true,
        "still completed after its completer left"
    );
    for page in [
        format!("/crm/activities/{id}"),
        format!("/crm/activities/{id}/edit"),
        "/crm/activities".to_owned(),
        format!("/crm/contacts/{keep}"),
    ] {
        assert_eq!(browser.get(&page).await.status, StatusCode::OK, "{page}");
    }
}

/// Every filter combination the page can send — including the blank fields a browser
/// submits for "Any" — is accepted by the API.
#[tokio::test]
async fn the_filter_form_as_a_browser_sends_it_is_accepted_by_the_api() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    post(
        &mut api,
        json!({"type": "Task", "subject": "One", "due_date": "2030-01-10"}),
    )
    .await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/crm/activities").await;
    assert_eq!(page.status, StatusCode::OK);
    // What the htmx form sends with nothing chosen, and with a sort picked from the menu.
    for query in [
        "search=&type=&owner=&status=&from=&to=&sort=",
        "search=&type=&owner=&status=&from=&to=&sort=when",
        "search=&type=&owner=&status=&from=&to=&sort=-created",
        "search=&type=&owner=&status=&from=&to=&sort=-updated",
        "search=&type=Task&owner=&status=due_today&from=&to=&sort=",
    ] {
        let ui = browser.get(&format!("/crm/activities?{query}")).await;
        assert_eq!(ui.status, StatusCode::OK, "{query}");
        let listed = api.get(&format!("/api/v1/activities?{query}")).await;
        assert_eq!(listed.status, StatusCode::OK, "{query}: {}", listed.text);
    }
}

/// RFC 5545 §3.8.2.2: DTEND is the non-inclusive end and MUST be later than DTSTART. An
/// all-day item due on a day ends the next day (or has no DTEND at all).
#[tokio::test]
async fn all_day_items_in_the_feed_end_after_they_start() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let soon = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(2))
        .expect("date");
    post(
        &mut api,
        json!({"type": "Task", "subject": "Send the proposal", "due_date": soon.to_string()}),
    )
    .await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let made = browser.post_form("/settings/calendar-feed", &[]).await;
    let url = extract_between(&made.text, r#"id="new-feed-url">"#, "</code>").expect("address");
    let path = format!(
        "/{}",
        url.split_once("://")
            .and_then(|(_, r)| r.split_once('/'))
            .expect("path")
            .1
    );
    let feed = app.client().get(&path).await.text;
    let start = extract_between(&feed, "DTSTART;VALUE=DATE:", "\r\n").expect("DTSTART");
    if let Some(end) = extract_between(&feed, "DTEND;VALUE=DATE:", "\r\n") {
        assert!(
            end > start,
            "all-day event with DTEND {end} not after DTSTART {start}:\n{feed}"
        );
    }
}

/// A follow-up date typed on the log form (a call done today, follow up in 3 days) must
/// show up where follow-ups are: "My follow-ups" and the calendar feed.
#[tokio::test]
async fn a_follow_up_date_set_on_the_log_form_appears_in_my_follow_ups() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let in_three = Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
        .checked_add_days(Days::new(3))
        .expect("date")
        .to_string();
    let form = browser.get("/crm/activities/new").await;
    let occurred = input_value(&form.text, "occurred_at");
    let (me, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    let owner = me.id.to_string();
    let logged = browser
        .post_form(
            "/crm/activities",
            &[
                ("type", "Call"),
                ("subject", "Discovery call with Ana"),
                ("occurred_at", &occurred),
                ("owner", &owner),
                ("follow_up_date", &in_three),
                ("completed", "on"),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.text);
    let home = browser.get("/").await;
    let follow_ups =
        extract_between(&home.text, r#"id="my-follow-ups""#, "</section>").expect("follow-ups");
    assert!(
        follow_ups.contains("Discovery call with Ana"),
        "the follow-up due {in_three} is nowhere in My follow-ups:\n{follow_ups}"
    );
}

/// A merge patch that clears `occurred_at` must not silently move the activity to "now".
#[tokio::test]
async fn clearing_occurred_at_in_a_patch_does_not_move_the_activity_to_now() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let call = post(
        &mut api,
        json!({"type": "Call", "subject": "Old call", "occurred_at": "2024-02-01T10:00:00Z"}),
    )
    .await;
    let reply = api
        .json(
            Method::PATCH,
            &format!("/api/v1/activities/{}", call["id"]),
            &json!({"occurred_at": null, "version": 1}),
            &[],
        )
        .await;
    let body = reply.json();
    assert!(
        reply.status == StatusCode::UNPROCESSABLE_ENTITY
            || body["occurred_at"] == "2024-02-01T10:00:00Z",
        "{} {}",
        reply.status,
        reply.text
    );
}

/// Instants outside four-digit years are refused (or at least behave the same on both
/// backends and give a valid feed).
#[tokio::test]
async fn instants_beyond_year_9999_are_refused() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for at in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59"] {
        let reply = api
            .json(
                Method::POST,
                "/api/v1/activities",
                &json!({"type": "Call", "subject": "Edge", "occurred_at": at, "completed": false}),
                &[],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{at}: {}",
            reply.text
        );
    }
}

/// C15 end to end: a Rome user sees 10:00 for both follow-ups whatever the day, and a Sydney
/// user sees 29 Oct 02:30.
#[tokio::test]
async fn c15_pages_show_each_instant_with_its_own_offset() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "rome@acme.example").await;
    app.user(tenant, "sydney@acme.example", Role::Member).await;
    let token = app.token("rome@acme.example", false).await;
    let mut api = app.api(&token);
    let may = post(&mut api, json!({"type": "Follow-up", "subject": "May follow-up", "occurred_at": "2025-05-18T08:00:00Z", "completed": false})).await;
    let dec = post(&mut api, json!({"type": "Follow-up", "subject": "December follow-up", "occurred_at": "2025-12-01T09:00:00Z", "completed": false})).await;
    let oct = post(
        &mut api,
        json!({"type": "Call", "subject": "Sydney call", "occurred_at": "2025-10-28T15:30:00Z"}),
    )
    .await;
    let mut rome = app.signed_in("rome@acme.example").await;
    set_zone(&mut rome, "Rome", "Europe/Rome").await;
    let list = rome.get("/crm/activities").await.text;
    assert!(list.contains("18 May 2025, 10:00 CEST"), "{list}");
    assert!(list.contains("1 Dec 2025, 10:00 CET"), "{list}");
    for id in [&may["id"], &dec["id"]] {
        let page = rome.get(&format!("/crm/activities/{id}")).await.text;
        assert!(page.contains(", 10:00 CE"), "{page}");
    }
    let mut sydney = app.signed_in("sydney@acme.example").await;
    set_zone(&mut sydney, "Sydney", "Australia/Sydney").await;
    let page = sydney
        .get(&format!("/crm/activities/{}", oct["id"]))
        .await
        .text;
    assert!(page.contains("29 Oct 2025, 02:30"), "{page}");
}

/// The deal page's timeline: newest first, with the stage change as a system entry.
#[tokio::test]
async fn a_deal_timeline_interleaves_stage_changes_newest_first() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = api.get("/api/v1/stages").await.json();
    let stage_ids: Vec<i64> = stages["items"]
        .as_array()
        .or_else(|| stages.as_array())
        .expect("stages")
        .iter()
        .filter_map(|s| s["id"].as_i64())
        .collect();
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Backup deal", "stage": stage_ids[0]}),
            &[],
        )
        .await
        .json();
    let id = deal["id"].as_i64().expect("deal");
    post(&mut api, json!({"type": "Call", "subject": "Old call", "deal": id, "occurred_at": "2024-01-01T10:00:00Z"})).await;
    let moved = api
        .json(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &json!({"stage": stage_ids[1], "version": deal["version"]}),
            &[],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get(&format!("/crm/deals/{id}")).await.text;
    let timeline = extract_between(&page, r#"id="timeline""#, "</section>").expect("timeline");
    let moved_at = timeline.find("Moved from").expect("stage change entry");
    let call_at = timeline.find("Old call").expect("call");
    assert!(moved_at < call_at, "newest first: {timeline}");
}

/// The weekly repeat of C15 keeps its wall-clock time after a week whose time fell in the
/// spring-forward gap.
#[test]
fn a_weekly_repeat_returns_to_its_local_time_after_the_dst_gap() {
    use kith_domain::activity::Repeat;
    let rome = chrono_tz::Europe::Rome;
    // Sundays 02:30 Rome from 23 March 2025; 30 March 02:30 does not exist.
    let first: DateTime<Utc> = "2025-03-23T01:30:00Z".parse().expect("instant");
    let got = Repeat::Weekly.occurrences(first, rome, 3);
    let local: Vec<String> = got
        .iter()
        .map(|at| at.with_timezone(&rome).format("%m-%d %H:%M").to_string())
        .collect();
    assert_eq!(local[2], "04-06 02:30", "occurrences: {local:?}");
}

/// Activities logged "now" through the API (no occurred_at) page in ascending order without
/// repeating: `sort=when&limit=1` must end.
#[tokio::test]
async fn ascending_cursor_paging_over_activities_logged_now_terminates() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut made = BTreeSet::new();
    for n in 0..3 {
        let a = post(
            &mut api,
            json!({"type": "Call", "subject": format!("Logged now {n}")}),
        )
        .await;
        made.insert(a["id"].as_i64().expect("id"));
    }
    let first = api.get("/api/v1/activities?sort=when&limit=1").await.json();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = api
        .get(&format!(
            "/api/v1/activities?sort=when&limit=1&cursor={cursor}"
        ))
        .await
        .json();
    assert_ne!(
        ids(&first),
        ids(&second),
        "page 2 repeats page 1 (occurred_at {})",
        first["items"][0]["occurred_at"]
    );
    let seen = all_pages(&mut api, "sort=when&limit=1").await;
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), made);
}

/// The edit form lists contacts as "Name (#id)" separated by commas; a name with a comma
/// ("King, Jr.") must survive saving the form unchanged.
#[tokio::test]
async fn the_edit_form_saves_unchanged_when_a_contact_name_has_a_comma() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let contact = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Martin", "last_name": "King, Jr.", "email": "mlk@x.example"}),
            &[],
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contact = contact.json()["id"].as_i64().expect("contact");
    let task = post(&mut api, json!({"type": "Task", "subject": "Call Martin", "contacts": [contact], "due_date": "2030-01-10"})).await;
    let id = task["id"].as_i64().expect("id");
    let mut browser = app.signed_in("owner@acme.example").await;
    let form = browser
        .get(&format!("/crm/activities/{id}/edit"))
        .await
        .text;
    let contacts = input_value(&form, "contacts").replace("&#44;", ",");
    let owner = task["owner"].as_i64().expect("owner").to_string();
    let saved = browser
        .post_form(
            &format!("/crm/activities/{id}"),
            &[
                ("version", "1"),
                ("type", "Task"),
                ("subject", "Call Martin again"),
                ("due_date", "2030-01-10"),
                ("contacts", &contacts),
                ("owner", &owner),
            ],
        )
        .await;
    assert_eq!(
        saved.status,
        StatusCode::SEE_OTHER,
        "contacts field {contacts:?}: {}",
        saved
            .text
            .find("no contact has")
            .map(|i| saved.text[i..].chars().take(120).collect::<String>())
            .unwrap_or_default()
    );
    let after = api.get(&format!("/api/v1/activities/{id}")).await.json();
    assert_eq!(after["contacts"], json!([contact]));
}
