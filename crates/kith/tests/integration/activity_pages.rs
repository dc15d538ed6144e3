//! The activity pages: the filtered log gives what the API gives for every filter the page
//! offers, forms log and complete activities, timelines and "My follow-ups" show them, and the
//! calendar feed lists only its owner's open work until it is revoked.

use crate::harness::{Client, TestApp, extract_between};
use axum::http::{Method, StatusCode};
use chrono::{Days, Utc};
use kith_domain::Role;
use serde_json::json;
use std::collections::BTreeSet;

/// The activity ids a page of `/crm/activities` lists.
fn listed_ids(html: &str) -> BTreeSet<i64> {
    let results = extract_between(html, r#"<div id="results">"#, "</table>").expect("results");
    results
        .split(r#"href="/crm/activities/"#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

async fn post(api: &mut Client, body: serde_json::Value) -> i64 {
    let reply = api
        .json(Method::POST, "/api/v1/activities", &body, &[])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()["id"].as_i64().expect("id")
}

#[tokio::test]
async fn every_filter_the_page_offers_gives_the_apis_results() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "agent@acme.example", Role::Member).await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let agent_token = app.token("agent@acme.example", false).await;
    let mut agent = app.api(&agent_token);

    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Harbor Dental"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let contact = api
        .json(Method::POST, "/api/v1/contacts", &json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@harbor.example", "client": client}), &[])
        .await
        .json()["id"]
        .as_i64()
        .expect("contact");
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Backup", "client": client}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("deal");

    let today = Utc::now().date_naive();
    let day = |offset: i64| {
        let date = if offset >= 0 {
            today.checked_add_days(Days::new(offset as u64))
        } else {
            today.checked_sub_days(Days::new(offset.unsigned_abs()))
        };
        date.expect("a date").to_string()
    };
    post(&mut api, json!({"type": "Call", "subject": "Renewal call", "client": client, "contacts": [contact], "occurred_at": format!("{}T10:00", day(-3))})).await;
    post(&mut api, json!({"type": "Task", "subject": "Send renewal quote", "client": client, "deal": deal, "due_date": day(-1)})).await;
    post(&mut api, json!({"type": "Task", "subject": "Prepare QBR deck", "client": client, "due_date": day(0)})).await;
    post(&mut api, json!({"type": "Meeting", "subject": "QBR meeting", "client": client, "deal": deal, "contacts": [contact], "occurred_at": format!("{}T15:00", day(4))})).await;
    post(&mut api, json!({"type": "Email", "subject": "Renewal terms sent", "deal": deal, "occurred_at": format!("{}T09:00", day(-10))})).await;
    post(
        &mut agent,
        json!({"type": "Call", "subject": "Agent renewal call", "due_date": day(2)}),
    )
    .await;
    post(&mut agent, json!({"type": "Note", "subject": "Agent note", "client": client, "occurred_at": format!("{}T12:00", day(-40))})).await;

    let (owner, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    let mut browser = app.signed_in("owner@acme.example").await;
    let statuses = ["", "open", "completed", "due_today", "overdue", "upcoming"];
    let types = ["", "Call", "Task"];
    let owners = [String::new(), owner.id.to_string()];
    let ranges = [(String::new(), String::new()), (day(-5), day(1))];
    // The client box sends what its picker shows: "Harbor Dental (#12)".
    let records = [
        ("", String::new()),
        ("client", client.to_string()),
        ("client", format!("Harbor Dental (#{client})")),
        ("contact", contact.to_string()),
        ("deal", deal.to_string()),
    ];
    let searches = ["", "renewal"];

    let mut compared = 0;
    for status in statuses {
        for kind in types {
            for who in &owners {
                for (from, to) in &ranges {
                    for (record, id) in &records {
                        for search in searches {
                            let mut pairs = vec![
                                ("status", status.to_owned()),
                                ("type", kind.to_owned()),
                                ("owner", who.clone()),
                                ("from", from.clone()),
                                ("to", to.clone()),
                                ("search", search.to_owned()),
                            ];
                            if !record.is_empty() {
                                pairs.push((record, id.clone()));
                            }
                            let query = kith_web_query(&pairs);
                            let page = browser.get(&format!("/crm/activities?{query}")).await;
                            assert_eq!(page.status, StatusCode::OK, "{query}");
                            let listed = api.get(&format!("/api/v1/activities?{query}")).await;
                            assert_eq!(listed.status, StatusCode::OK, "{query}: {}", listed.text);
                            let from_api: BTreeSet<i64> = listed.json()["items"]
                                .as_array()
                                .expect("items")
                                .iter()
                                .filter_map(|a| a["id"].as_i64())
                                .collect();
                            assert_eq!(listed_ids(&page.text), from_api, "{query}");
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(compared, 6 * 3 * 2 * 2 * 5 * 2);

    // Spot checks that the comparison compares something.
    let overdue = api.get("/api/v1/activities?status=overdue").await.json();
    assert_eq!(overdue["items"][0]["subject"], "Send renewal quote");
    assert_eq!(overdue["total"], 1);
    let of_contact = api
        .get(&format!("/api/v1/activities?contact={contact}"))
        .await
        .json();
    assert_eq!(of_contact["total"], 2);
    let unnamed = api.get("/api/v1/activities?client=Harbor").await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert!(
        unnamed.text.contains(r#"no client is called \"Harbor\""#),
        "{}",
        unnamed.text
    );
    let by_name = api.get("/api/v1/activities?client=harbor%20dental").await;
    let by_id = api
        .get(&format!("/api/v1/activities?client={client}"))
        .await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.text);
    assert_eq!(by_name.json()["items"], by_id.json()["items"]);
    assert_eq!(by_id.json()["total"], 5);
    let filtered = browser
        .get(&format!("/crm/activities?client={client}"))
        .await;
    assert!(
        filtered.text.contains(&format!(
            r#"name="client" value="Harbor Dental (#{client})""#
        )),
        "the box names the client"
    );
}

/// A query string of the non-empty pairs.
fn kith_web_query(pairs: &[(&str, String)]) -> String {
    let url = kith_web_url(pairs);
    url.split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

fn kith_web_url(pairs: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if !value.is_empty() {
            query.append_pair(key, value);
        }
    }
    format!("/crm/activities?{}", query.finish())
}

#[tokio::test]
async fn a_call_logged_and_completed_in_the_pages_lands_in_my_follow_ups_and_the_timeline() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Harbor Dental"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client");
    let mut browser = app.signed_in("owner@acme.example").await;

    let form = browser
        .get(&format!("/crm/activities/new?client={client}"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text.contains(&format!("Harbor Dental (#{client})")),
        "the client is filled in"
    );

    let bad = browser
        .post_form(
            "/crm/activities",
            &[
                ("type", "Call"),
                ("subject", ""),
                ("client", "Nobody Inc"),
                ("completed", "on"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("is required"), "{}", bad.text);
    assert!(bad.text.contains("no client is called"), "{}", bad.text);

    let logged = browser
        .post_form(
            "/crm/activities",
            &[
                ("type", "Call"),
                ("subject", "Intro call with <b>Ana</b>"),
                ("client", &format!("Harbor Dental (#{client})")),
                ("occurred_at", "2026-01-05T10:30"),
                ("duration", "20"),
                ("notes", "Talked about **backups**"),
                ("completed", "on"),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.text);
    let location = logged.headers["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let call_id: i64 = location
        .rsplit('/')
        .next()
        .expect("id")
        .parse()
        .expect("id");

    // A planned task to complete with a follow-up for tomorrow.
    let task = api
        .json(Method::POST, "/api/v1/activities", &json!({"type": "Task", "subject": "Send the proposal", "client": client, "due_date": Utc::now().date_naive().to_string()}), &[])
        .await
        .json();
    let task_id = task["id"].as_i64().expect("id");
    let tomorrow = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(1))
        .expect("tomorrow")
        .to_string();
    let shown = browser.get(&format!("/crm/activities/{task_id}")).await;
    assert!(shown.text.contains("Mark done"));
    assert!(
        shown
            .text
            .contains(r#"name="follow_up_date" type="date" value="""#),
        "a follow-up is asked for, not assumed"
    );
    let done = browser
        .post_form(
            &format!("/crm/activities/{task_id}/complete"),
            &[("version", "1"), ("follow_up_date", &tomorrow)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let follow_up = done.headers["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let page = browser.get(&follow_up).await;
    assert!(
        page.text.contains("Follow-up: Send the proposal"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Upcoming"));

    let stale = browser
        .post_form(
            &format!("/crm/activities/{task_id}/complete"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .text
            .contains("Someone else changed this activity meanwhile")
    );

    let home = browser.get("/").await;
    let week =
        extract_between(&home.text, r#"id="follow-ups-upcoming""#, "</div>").expect("next 7 days");
    assert!(week.contains("Follow-up: Send the proposal"), "{week}");
    let today =
        extract_between(&home.text, r#"id="follow-ups-due_today""#, "</div>").expect("today");
    assert!(
        !today.contains("Send the proposal"),
        "completed work leaves today: {today}"
    );

    let profile = browser.get(&format!("/crm/clients/{client}")).await;
    let timeline =
        extract_between(&profile.text, r#"id="timeline""#, "</section>").expect("timeline");
    assert!(
        timeline.contains("Intro call with &#60;b&#62;Ana&#60;/b&#62;"),
        "markup shows as text: {timeline}"
    );
    assert!(timeline.contains("Follow-up: Send the proposal"));
    let newest = timeline
        .find("Follow-up: Send the proposal")
        .expect("follow-up");
    let older = timeline.find("Intro call").expect("call");
    assert!(newest < older, "newest first");

    let call = browser.get(&format!("/crm/activities/{call_id}")).await;
    assert!(
        call.text.contains("<strong>backups</strong>"),
        "notes as Markdown"
    );
    assert!(call.text.contains("5 Jan 2026, 10:30"), "{}", call.text);
    let reopened = browser
        .post_form(
            &format!("/crm/activities/{call_id}/reopen"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.get(&format!("/api/v1/activities/{call_id}"))
            .await
            .json()["completed"],
        false
    );
}

#[tokio::test]
async fn the_calendar_feed_lists_only_its_owners_open_work_until_revoked() {
    use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime};

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "agent@acme.example", Role::Member).await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let agent_token = app.token("agent@acme.example", false).await;
    let mut agent = app.api(&agent_token);
    let soon = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(2))
        .expect("date");
    post(
        &mut api,
        json!({"type": "Task", "subject": "Send the proposal", "due_date": soon.to_string()}),
    )
    .await;
    post(&mut api, json!({"type": "Meeting", "subject": "QBR", "occurred_at": format!("{soon}T14:00:00Z"), "duration": 60})).await;
    post(
        &mut api,
        json!({"type": "Call", "subject": "Done already", "occurred_at": "2026-01-05T10:00:00Z"}),
    )
    .await;
    post(
        &mut agent,
        json!({"type": "Task", "subject": "The agent's task", "due_date": soon.to_string()}),
    )
    .await;

    let mut browser = app.signed_in("owner@acme.example").await;
    let made = browser.post_form("/settings/calendar-feed", &[]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let url = extract_between(&made.text, r#"id="new-feed-url">"#, "</code>")
        .expect("the feed's address");
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| format!("/{p}"))
        .expect("a path");

    let mut anonymous = app.client();
    let feed = anonymous.get(&path).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/calendar")
    );
    let calendar: Calendar = feed.text.parse().expect("the feed parses as iCalendar");
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    let mut summaries: Vec<&str> = events.iter().filter_map(|e| e.get_summary()).collect();
    summaries.sort_unstable();
    assert_eq!(summaries, ["Meeting: QBR", "Task: Send the proposal"]);
    let task = events
        .iter()
        .find(|e| e.get_summary() == Some("Task: Send the proposal"))
        .expect("task");
    assert_eq!(task.get_start(), Some(DatePerhapsTime::Date(soon)));
    let meeting = events
        .iter()
        .find(|e| e.get_summary() == Some("Meeting: QBR"))
        .expect("meeting");
    let starts = format!("{soon}T14:00:00Z")
        .parse::<chrono::DateTime<Utc>>()
        .expect("instant");
    assert_eq!(
        meeting.get_start(),
        Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(
            starts
        )))
    );

    // A new address ends the old one; revoking ends the feed.
    let again = browser.post_form("/settings/calendar-feed", &[]).await;
    let second = extract_between(&again.text, r#"id="new-feed-url">"#, "</code>").expect("address");
    assert_ne!(second, url);
    assert_eq!(anonymous.get(&path).await.status, StatusCode::NOT_FOUND);
    let second_path = format!(
        "/{}",
        second
            .split_once("://")
            .and_then(|(_, r)| r.split_once('/'))
            .expect("path")
            .1
    );
    assert_eq!(anonymous.get(&second_path).await.status, StatusCode::OK);
    let revoked = browser
        .post_form("/settings/calendar-feed/delete", &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.get(&second_path).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deal_stage_changes_show_on_the_deal_client_and_contact_timelines() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = post_to(
        &mut api,
        "/api/v1/clients",
        json!({"name": "Harbor Dental"}),
    )
    .await;
    let priya = post_to(
        &mut api,
        "/api/v1/contacts",
        json!({"first_name": "Priya", "last_name": "Shah", "client": client}),
    )
    .await;
    let bystander = post_to(
        &mut api,
        "/api/v1/contacts",
        json!({"first_name": "Sam", "last_name": "Lee", "client": client}),
    )
    .await;
    let stages = kith_store::stages::list(&app.db, tenant)
        .await
        .expect("stages");
    let won = stages.iter().find(|s| s.name == "Won").expect("Won").id;
    let deal = post_to(
        &mut api,
        "/api/v1/deals",
        json!({"title": "Managed <i>SOC</i>", "client": client,
               "contacts": [{"contact": priya, "role": "decision-maker"}]}),
    )
    .await;
    let moved = api
        .json(
            Method::PATCH,
            &format!("/api/v1/deals/{deal}"),
            &json!({"stage": won}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let first = &stages[0].name;
    let mut browser = app.signed_in("owner@acme.example").await;

    let timeline_of =
        |page: String| extract_between(&page, r#"id="timeline""#, "</section>").expect("timeline");
    let deal_page = timeline_of(browser.get(&format!("/crm/deals/{deal}")).await.text);
    let moved_line = format!("Moved from {first} to Won");
    assert!(deal_page.contains(&moved_line), "{deal_page}");
    assert!(
        deal_page.find(&moved_line) < deal_page.find(&format!("Created in {first}")),
        "newest first: {deal_page}"
    );

    let titled = format!("Managed &#60;i&#62;SOC&#60;/i&#62;: Moved from {first} to Won");
    let client_page = timeline_of(browser.get(&format!("/crm/clients/{client}")).await.text);
    assert!(client_page.contains(&titled), "{client_page}");
    let contact_page = timeline_of(browser.get(&format!("/crm/contacts/{priya}")).await.text);
    assert!(contact_page.contains(&titled), "{contact_page}");
    let other_page = timeline_of(
        browser
            .get(&format!("/crm/contacts/{bystander}"))
            .await
            .text,
    );
    assert!(
        !other_page.contains("Managed"),
        "a contact outside the deal sees none of it: {other_page}"
    );
}

async fn post_to(api: &mut Client, path: &str, body: serde_json::Value) -> i64 {
    let reply = api.json(Method::POST, path, &body, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.json()["id"].as_i64().expect("id")
}

#[tokio::test]
async fn the_follow_up_buttons_count_days_from_the_users_today() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let task = post(
        &mut api,
        json!({"type": "Task", "subject": "Check the backups", "due_date": "2030-01-08"}),
    )
    .await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let done = browser
        .post_form(
            &format!("/crm/activities/{task}/complete"),
            &[
                ("version", "1"),
                // The button wins over a date left in the field.
                ("follow_up_date", "2030-05-05"),
                ("follow_up_in", "7"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let london_today = Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let in_a_week = london_today
        .checked_add_days(Days::new(7))
        .expect("a week on")
        .to_string();
    let follow_up = browser.get(done.header("location")).await;
    assert!(
        follow_up.text.contains("Follow-up: Check the backups"),
        "{}",
        follow_up.text
    );
    let listed = api
        .get(&format!(
            "/api/v1/activities?from={in_a_week}&to={in_a_week}"
        ))
        .await
        .json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["due_date"], in_a_week);

    let refused = browser
        .post_form(
            &format!("/crm/activities/{task}/complete"),
            &[("version", "2"), ("follow_up_in", "0")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}
