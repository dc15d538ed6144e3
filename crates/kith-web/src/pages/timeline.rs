//! Timelines on the client, contact and deal pages: their activities, newest first, with the
//! deals' stage changes as system entries.

use super::activities::{ActivityRow, viewer};
use crate::AppState;
use crate::auth::Identity;
use crate::error::PageError;
use crate::views::{local_time, url_with};
use chrono::{DateTime, Utc};
use kith_domain::DealId;
use kith_domain::activity::Status;
use kith_store::activities::{self, ActivityFilter};
use kith_store::deals::{DealsOf, RelatedStageChange};
use kith_store::page::{Paging, Total};
use kith_store::{deals, picklists, users};

/// How many entries a record page shows; the full log is one link away.
const SHOWN: u64 = 20;

/// The latest stage changes of a client's or contact's deals shown among their activities:
/// enough to see where the deals stand without burying what people logged.
const RELATED_SHOWN: u64 = 5;

/// Whose timeline it is.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Client(i64),
    Contact(i64),
    Deal(i64),
}

impl Subject {
    fn param(self) -> (&'static str, String) {
        match self {
            Subject::Client(id) => ("client", id.to_string()),
            Subject::Contact(id) => ("contact", id.to_string()),
            Subject::Deal(id) => ("deal", id.to_string()),
        }
    }
}

/// One line of a timeline.
pub struct Entry {
    at: DateTime<Utc>,
    pub when: String,
    /// A stage change recorded by Kith, not an activity someone logged.
    pub system: bool,
    pub title: String,
    pub href: String,
    pub detail: String,
    pub status: Option<ActivityRow>,
}

/// A record's timeline.
pub struct Timeline {
    /// Open work, overdue first, then due today and ahead: soonest first.
    pub upcoming: Vec<Entry>,
    /// What was done, and deal stage changes, newest first.
    pub entries: Vec<Entry>,
    /// How many activities the record has in all.
    pub total: Total,
    pub all_link: String,
    pub log_link: String,
    pub plan_link: String,
}

/// The timeline of `subject`: its newest activities and stage changes, newest first.
pub async fn of(state: &AppState, me: &Identity, subject: Subject) -> Result<Timeline, PageError> {
    let tenant = me.tenant();
    let viewer = viewer(me);
    let lists = picklists::load(&state.db, tenant).await?;
    let people = users::list(&state.db, tenant).await?;

    let mut filter = ActivityFilter::default();
    match subject {
        Subject::Client(id) => filter.client_id = Some(id),
        Subject::Contact(id) => filter.contact_id = Some(id),
        Subject::Deal(id) => filter.deal_id = Some(id),
    }
    let found = activities::list(
        &state.db,
        tenant,
        &filter,
        &viewer,
        &activities::default_sort(),
        &Paging::Numbered {
            page: 1,
            per_page: SHOWN,
        },
    )
    .await?;
    let mut entries: Vec<Entry> = found
        .page
        .items
        .iter()
        .map(|a| {
            let row = ActivityRow::new(a, &lists, &people, &viewer);
            Entry {
                at: a.sort_at,
                when: row.when.clone(),
                system: false,
                title: a.subject.clone(),
                href: format!("/crm/activities/{}", a.id),
                detail: [row.activity_type.clone(), row.owner.clone()]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
                status: Some(row),
            }
        })
        .collect();
    entries.extend(stage_changes(state, me, subject).await?);
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    let (mut upcoming, entries): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| {
        e.status
            .as_ref()
            .is_some_and(|row| row.status != Status::Completed)
    });
    upcoming.reverse();

    let link = subject.param();
    Ok(Timeline {
        upcoming,
        entries,
        total: found.page.total,
        all_link: url_with("/crm/activities", std::slice::from_ref(&link)),
        log_link: url_with("/crm/activities/new", std::slice::from_ref(&link)),
        plan_link: url_with("/crm/activities/new", &[link, ("plan", "1".into())]),
    })
}

/// The stage changes a timeline shows: a deal's own, or those of a client's or contact's deals.
async fn stage_changes(
    state: &AppState,
    me: &Identity,
    subject: Subject,
) -> Result<Vec<Entry>, PageError> {
    let tenant = me.tenant();
    let zone = viewer(me).zone;
    let entry =
        |deal: i64, title: Option<&str>, from: Option<&str>, to: &str, at: DateTime<Utc>| {
            let moved = match from {
                Some(from) => format!("Moved from {from} to {to}"),
                None => format!("Created in {to}"),
            };
            Entry {
                at,
                when: local_time(&at, zone),
                system: true,
                title: match title {
                    Some(title) => format!("{title}: {moved}"),
                    None => moved,
                },
                href: format!("/crm/deals/{deal}"),
                detail: "Stage change".into(),
                status: None,
            }
        };
    Ok(match subject {
        Subject::Deal(id) => deals::history_of(&state.db, tenant, DealId(id))
            .await?
            .iter()
            .map(|c| {
                let from = c.from_stage_name.as_deref();
                entry(id, None, from, &c.to_stage_name, c.changed_at)
            })
            .collect(),
        Subject::Client(id) => {
            deals::stage_changes_of(&state.db, tenant, DealsOf::Client(id), RELATED_SHOWN)
                .await?
                .iter()
                .map(|c| related(c, &entry))
                .collect()
        }
        Subject::Contact(id) => {
            deals::stage_changes_of(&state.db, tenant, DealsOf::Contact(id), RELATED_SHOWN)
                .await?
                .iter()
                .map(|c| related(c, &entry))
                .collect()
        }
    })
}

/// A stage change of someone's deal, titled with the deal since the timeline is not the deal's.
fn related(
    change: &RelatedStageChange,
    entry: &impl Fn(i64, Option<&str>, Option<&str>, &str, DateTime<Utc>) -> Entry,
) -> Entry {
    entry(
        change.deal_id,
        Some(&change.deal_title),
        change.from_stage_name.as_deref(),
        &change.to_stage_name,
        change.changed_at,
    )
}
