//! `/api/v1/activities`: fields named when wrong, optimistic concurrency, completing with a
//! follow-up, reopening, and filters read in the caller's time zone.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use kith_domain::Role;
use serde_json::json;

#[tokio::test]
async fn activities_are_logged_planned_completed_and_reopened_through_the_api() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
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
        .expect("client id");

    let logged = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "call", "subject": "Discovery call", "client": client,
                    "occurred_at": "2025-05-18T10:00:00+02:00", "duration": 30, "outcome": "Interested"}),
            &[],
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    let call = logged.json();
    assert_eq!(call["type"], "Call");
    assert_eq!(call["occurred_at"], "2025-05-18T08:00:00Z");
    assert_eq!(call["due_date"], serde_json::Value::Null);
    assert_eq!(
        (call["completed"].clone(), call["status"].clone()),
        (json!(true), json!("completed"))
    );
    assert_eq!(call["client_name"], "Harbor Dental");
    assert!(call["owner"].is_i64(), "the caller owns what they log");

    let bad = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Smoke signal", "subject": "", "due_date": "18/05/2025", "duration": -5, "client": 999999}),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        fields,
        ["type", "subject", "due_date", "duration"],
        "{}",
        bad.text
    );
    let both = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Task", "subject": "Both", "occurred_at": "2025-05-18T10:00", "due_date": "2025-05-18"}),
            &[],
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(both.json()["errors"][0]["field"], "due_date");
    let foreign_client = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Task", "subject": "Elsewhere", "client": 999999}),
            &[],
        )
        .await;
    assert_eq!(foreign_client.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign_client.json()["errors"][0]["field"], "client");

    let task = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Task", "subject": "Send the proposal", "client": client, "due_date": "2030-01-10"}),
            &[],
        )
        .await
        .json();
    assert_eq!(
        (task["completed"].clone(), task["status"].clone()),
        (json!(false), json!("upcoming"))
    );
    let path = format!("/api/v1/activities/{}", task["id"]);

    // Stale and missing versions.
    let missing = api
        .json(Method::PATCH, &path, &json!({"subject": "x"}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    let edited = api
        .json(
            Method::PATCH,
            &path,
            &json!({"subject": "Send the revised proposal"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    let stale = api
        .json(
            Method::PATCH,
            &path,
            &json!({"subject": "Lost update"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(
        stale.json()["current"]["subject"],
        "Send the revised proposal"
    );

    let done = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 2, "follow_up": {"due_date": "2030-01-17"}}),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let done = done.json();
    assert_eq!(done["activity"]["status"], "completed");
    assert_eq!(done["activity"]["follow_up_date"], "2030-01-17");
    assert_eq!(done["follow_up"]["type"], "Follow-up");
    assert_eq!(
        done["follow_up"]["subject"],
        "Follow-up: Send the revised proposal"
    );
    assert_eq!(done["follow_up"]["due_date"], "2030-01-17");
    assert_eq!(done["follow_up"]["client"], client);
    assert_eq!(done["follow_up"]["follow_up_of"], task["id"]);

    let again = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 2}),
            &[],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a stale completion: {}",
        again.text
    );
    let reopened = api
        .json(
            Method::POST,
            &format!("{path}/reopen"),
            &json!({"version": 3}),
            &[],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert_eq!(reopened.json()["status"], "upcoming");

    // Filters.
    let open = api
        .get(&format!("/api/v1/activities?client={client}&status=open"))
        .await
        .json();
    let subjects: Vec<&str> = open["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["subject"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        subjects,
        [
            "Follow-up: Send the revised proposal",
            "Send the revised proposal"
        ]
    );
    let calls = api
        .get("/api/v1/activities?type=Call&from=2025-05-18&to=2025-05-18")
        .await
        .json();
    assert_eq!(calls["total"], 1);
    let wrong = api.get("/api/v1/activities?status=late").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["errors"][0]["field"], "status");
    let inverted = api
        .get("/api/v1/activities?from=2025-06-01&to=2025-05-01")
        .await;
    assert_eq!(inverted.status, StatusCode::BAD_REQUEST);
    assert_eq!(inverted.json()["errors"][0]["field"], "to");

    // A viewer reads but does not write.
    app.user(tenant, "viewer@acme.example", Role::Viewer).await;
    let viewer_token = app.token("viewer@acme.example", false).await;
    let mut viewer = app.api(&viewer_token);
    assert_eq!(viewer.get(&path).await.status, StatusCode::OK);
    let refused = viewer
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 4}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let deleted = api
        .send(
            Method::DELETE,
            &path,
            None,
            Vec::new(),
            &[("if-match", "\"4\"")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
}

/// The follow-ups of activity `of`, as (subject, due date, completed).
async fn follow_ups(api: &mut crate::harness::Client, of: i64) -> Vec<(String, String, bool)> {
    let all = api.get("/api/v1/activities?limit=100").await.json();
    all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["follow_up_of"] == of)
        .map(|a| {
            (
                a["subject"].as_str().unwrap_or_default().to_owned(),
                a["due_date"].as_str().unwrap_or_default().to_owned(),
                a["completed"] == true,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_call_logged_as_done_with_a_follow_up_date_schedules_one_follow_up() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let logged = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Call", "subject": "Quote call", "occurred_at": "2030-01-06T09:00:00Z",
                    "completed": true, "follow_up_date": "2030-01-15"}),
            &[],
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    let call = logged.json()["id"].as_i64().expect("id");
    assert_eq!(
        follow_ups(&mut api, call).await,
        [(
            "Follow-up: Quote call".to_owned(),
            "2030-01-15".to_owned(),
            false
        )]
    );
    // Moving the done call's follow-up date moves its open follow-up.
    let moved = api
        .json(
            Method::PATCH,
            &format!("/api/v1/activities/{call}"),
            &json!({"version": 1, "follow_up_date": "2030-01-18"}),
            &[],
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        follow_ups(&mut api, call).await,
        [(
            "Follow-up: Quote call".to_owned(),
            "2030-01-18".to_owned(),
            false
        )]
    );

    // A planned task keeps its follow-up date until it is done.
    let planned = api
        .json(
            Method::POST,
            "/api/v1/activities",
            &json!({"type": "Task", "subject": "Book the QBR", "due_date": "2030-01-08",
                    "follow_up_date": "2030-01-20"}),
            &[],
        )
        .await
        .json();
    let task = planned["id"].as_i64().expect("id");
    assert!(follow_ups(&mut api, task).await.is_empty());

    // Completed, reopened and completed again: the open follow-up moves, no second appears.
    let path = format!("/api/v1/activities/{task}");
    let first = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 1, "follow_up": {"due_date": "2030-01-20"}}),
            &[],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let reopened = api
        .json(
            Method::POST,
            &format!("{path}/reopen"),
            &json!({"version": 2}),
            &[],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    let second = api
        .json(
            Method::POST,
            &format!("{path}/complete"),
            &json!({"version": 3, "follow_up": {"due_date": "2030-01-22"}}),
            &[],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(
        follow_ups(&mut api, task).await,
        [(
            "Follow-up: Book the QBR".to_owned(),
            "2030-01-22".to_owned(),
            false
        )]
    );
    let same = second.json()["follow_up"]["id"].clone();
    assert_eq!(same, first.json()["follow_up"]["id"]);
}
