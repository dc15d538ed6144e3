//! Searches matching thousands of rows: newest first, the count stopping at 1000+, and pages
//! that neither repeat nor skip, whether the matches are among the newest rows or far behind
//! them (on PostgreSQL the first finds its page by walking the newest rows, the second falls
//! back to the search index).

use crate::harness::TestApp;
use kith_domain::TenantId;
use kith_domain::search::document;
use kith_store::now;
use sea_query::Query;
use serde_json::Value;

/// Adds `count` contacts named `first last`, numbered from `from`, in one statement per
/// thousand. Returns their ids in creation order.
async fn add_contacts(
    app: &TestApp,
    tenant: TenantId,
    first: &str,
    last: &str,
    from: usize,
    count: usize,
) -> Vec<i64> {
    let stamp = now();
    let mut ids = Vec::with_capacity(count);
    for start in (from..from + count).step_by(1000) {
        let mut insert = Query::insert();
        insert.into_table("contacts").columns([
            "tenant_id",
            "first_name",
            "last_name",
            "name_sort",
            "email",
            "email_normalized",
            "types",
            "preferred_channel",
            "email_opt_out",
            "phone_opt_out",
            "sms_opt_out",
            "search_text",
            "created_at",
            "updated_at",
            "version",
        ]);
        for i in start..(start + 1000).min(from + count) {
            let email = format!("{}.{i}@example.com", first.to_lowercase());
            insert.values_panic([
                tenant.0.into(),
                first.into(),
                last.into(),
                kith_domain::contact::sort_name(Some(first), Some(last)).into(),
                email.clone().into(),
                email.clone().into(),
                ",".into(),
                "email".into(),
                false.into(),
                false.into(),
                false.into(),
                document([first, last, email.as_str()]).into(),
                stamp.into(),
                stamp.into(),
                1i64.into(),
            ]);
        }
        insert.returning_col("id");
        let mut tx = app.db.begin().await.expect("begin");
        let added: Vec<(i64,)> = tx.fetch_all(&insert).await.expect("inserted");
        tx.commit().await.expect("commit");
        ids.extend(added.into_iter().map(|(id,)| id));
    }
    ids.sort_unstable();
    ids
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn broad_searches_page_newest_first_wherever_the_matches_lie() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", true).await;
    let mut api = app.api(&token);

    // 5,100 old matches, 26,000 newer rows that do not match, then 60 new matches.
    let old = add_contacts(&app, tenant, "Ana", "Needleman", 0, 5_100).await;
    add_contacts(&app, tenant, "Ben", "Other", 10_000, 26_000).await;
    let new = add_contacts(&app, tenant, "Cara", "Needleman", 40_000, 60).await;
    let mut newest_first: Vec<i64> = old.iter().chain(&new).copied().collect();
    newest_first.reverse();

    let first = api.get("/api/v1/contacts?search=needleman&limit=50").await;
    assert_eq!(first.status, axum::http::StatusCode::OK, "{}", first.text);
    let first = first.json();
    assert_eq!(
        (&first["total"], &first["total_capped"]),
        (&Value::from(1000), &Value::Bool(true))
    );
    assert_eq!(ids_of(&first), newest_first[..50]);

    // The next page starts among the new matches and ends among the old ones, far back.
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = api
        .get(&format!(
            "/api/v1/contacts?search=needleman&limit=50&cursor={cursor}"
        ))
        .await
        .json();
    assert_eq!(ids_of(&second), newest_first[50..100]);

    // A term only the old rows match.
    let ana = api
        .get("/api/v1/contacts?search=ana.51&limit=20")
        .await
        .json();
    let expected: Vec<i64> = {
        let mut matching: Vec<i64> = (0..5_100)
            .filter(|i| format!("ana.{i}@").contains("ana.51"))
            .map(|i| old[i])
            .collect();
        matching.reverse();
        matching.truncate(20);
        matching
    };
    assert_eq!(ids_of(&ana), expected);

    // Oldest first, and on the numbered pages of the web UI.
    let oldest = api
        .get("/api/v1/contacts?search=needleman&limit=3&sort=created")
        .await
        .json();
    assert_eq!(ids_of(&oldest), old[..3]);
    let mut browser = app.signed_in("owner@acme.example").await;
    let page_two = browser.get("/crm/contacts?search=needleman&page=2").await;
    let shown = crate::harness::linked_ids(&page_two.text, "contacts");
    let per_page = shown.len();
    assert!(per_page > 0, "{}", page_two.text);
    assert_eq!(shown, newest_first[per_page..2 * per_page]);
}
