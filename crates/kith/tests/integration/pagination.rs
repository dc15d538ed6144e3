//! Case C26: sorting by a non-unique column must neither repeat nor skip records across pages.

use crate::harness::{TestApp, linked_ids};
use axum::http::{Method, StatusCode};
use sea_query::ExprTrait;
use serde_json::json;
use std::collections::HashSet;

/// 55 clients: 45 Retail ones sharing one `created_at` second (a bulk import), 10 others.
async fn fifty_five_clients(app: &TestApp, api: &mut crate::harness::Client) {
    for i in 0..55 {
        let industry = if i < 45 { "Retail" } else { "Medical" };
        // Few distinct names, so the name sort has ties too.
        let name = format!("Store {}", i % 4);
        let reply = api
            .json(
                Method::POST,
                "/api/v1/clients",
                &json!({"name": name, "industry": industry}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let same_second = sea_query::Query::update()
        .table("clients")
        .value(
            "created_at",
            chrono::DateTime::parse_from_rfc3339("2025-01-15T09:30:00Z")
                .expect("time")
                .with_timezone(&chrono::Utc),
        )
        .and_where(sea_query::Expr::col("name").ne("nothing"))
        .to_owned();
    let mut tx = app.db.begin().await.expect("tx");
    tx.execute(&same_second).await.expect("bulk timestamp");
    tx.commit().await.expect("commit");
}

async fn walk_api(api: &mut crate::harness::Client, sort: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 1..=3 {
        let path = match &cursor {
            None => format!("/api/v1/clients?sort={sort}&limit=20"),
            Some(c) => format!("/api/v1/clients?sort={sort}&limit=20&cursor={c}"),
        };
        let body = api.get(&path).await.json();
        assert_eq!(body["total"], 55, "page {page}");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), if page < 3 { 20 } else { 15 });
        ids.extend(items.iter().filter_map(|c| c["id"].as_i64()));
        cursor = body["next_cursor"].as_str().map(str::to_owned);
        assert_eq!(cursor.is_none(), page == 3, "next_cursor on page {page}");
    }
    ids
}

#[tokio::test]
async fn c26_pages_neither_repeat_nor_skip_on_ties() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    fifty_five_clients(&app, &mut api).await;

    for sort in ["created", "-created", "name", "-name"] {
        let first = walk_api(&mut api, sort).await;
        let distinct: HashSet<i64> = first.iter().copied().collect();
        assert_eq!(distinct.len(), 55, "sort={sort}: every client once");
        for _ in 0..5 {
            assert_eq!(
                walk_api(&mut api, sort).await,
                first,
                "sort={sort}: same order every time"
            );
        }
        if sort == "created" {
            let mut by_id = first.clone();
            by_id.sort_unstable();
            assert_eq!(first, by_id, "ties on created_at are broken by id");
        }
    }

    let cursor_of_name = api.get("/api/v1/clients?sort=name&limit=20").await.json()["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let mismatch = api
        .get(&format!(
            "/api/v1/clients?sort=created&cursor={cursor_of_name}"
        ))
        .await;
    assert_eq!(
        mismatch.status,
        StatusCode::BAD_REQUEST,
        "a cursor belongs to its sort"
    );
    assert_eq!(mismatch.json()["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn c26_numbered_pages_in_the_ui_are_stable_too() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    fifty_five_clients(&app, &mut api).await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = browser
            .get(&format!("/crm/clients?sort=-created&page={page}"))
            .await;
        assert!(
            reply
                .text
                .contains("of <strong class=\"total\">55</strong>"),
            "total shown on page {page}"
        );
        seen.extend(linked_ids(&reply.text, "clients"));
    }
    let distinct: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!((seen.len(), distinct.len()), (55, 55));

    let retail = browser.get("/crm/clients?industry=Retail&page=2").await;
    assert!(
        retail
            .text
            .contains("26–45 of <strong class=\"total\">45</strong>"),
        "{}",
        retail.text
    );
    let past_the_end = browser.get("/crm/clients?industry=Retail&page=3").await;
    assert!(
        past_the_end
            .text
            .contains("No clients on this page; there are <strong class=\"total\">45</strong>")
    );
}
