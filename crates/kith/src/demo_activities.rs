//! Sample activities for the demo workspace, so the log, the timelines and "My follow-ups" have
//! something to show on first run. The public data sets have no activities, so these are
//! generated: deterministic (the same clients get the same history on every load) and dated
//! around the day the demo is loaded.

use chrono::{DateTime, Days, NaiveDate, Utc};
use kith_domain::activity::{ActivityFields, ActivityInput};
use kith_domain::{TenantId, UserId};
use kith_store::activities;
use kith_store::clients::{self, ClientFilter};
use kith_store::page::{Paging, Sort};
use kith_store::{Db, picklists};

/// How many clients get a history: the first ones in name order.
const CLIENTS: u64 = 40;

/// One generated activity, relative to the load's day.
struct Sample {
    kind: &'static str,
    /// Alternatives, picked by the client's position so neighbours differ.
    subjects: &'static [&'static str],
    /// Days from today: negative is past.
    offset: i64,
    /// A time of day for a call or meeting; `None` plans work for the day.
    hour: Option<u32>,
    outcome: Option<&'static str>,
}

/// The history each client may get; which ones it gets depends on its position.
const SAMPLES: [Sample; 6] = [
    Sample {
        kind: "Call",
        subjects: &[
            "Quarterly check-in call",
            "Check-in call with the IT lead",
            "Call about the helpdesk survey",
        ],
        offset: -45,
        hour: Some(15),
        outcome: Some("Happy with the service; asked about backup options"),
    },
    Sample {
        kind: "Email",
        subjects: &[
            "Sent the service review",
            "Sent the patching report",
            "Sent the licence true-up",
        ],
        offset: -30,
        hour: Some(14),
        outcome: None,
    },
    Sample {
        kind: "Meeting",
        subjects: &[
            "QBR: roadmap and renewals",
            "QBR: security and backups",
            "Site visit: network refresh",
        ],
        offset: -12,
        hour: Some(16),
        outcome: Some("Renewal likely; wants a quote for more seats"),
    },
    Sample {
        kind: "Follow-up",
        subjects: &[
            "Send the renewal quote",
            "Chase the signed contract",
            "Send the onboarding checklist",
        ],
        offset: -2,
        hour: None,
        outcome: None,
    },
    Sample {
        kind: "Task",
        subjects: &[
            "Check the backup report",
            "Review the open tickets",
            "Confirm the maintenance window",
        ],
        offset: 0,
        hour: None,
        outcome: None,
    },
    Sample {
        kind: "Follow-up",
        subjects: &[
            "Call about the security assessment",
            "Book the QBR",
            "Demo the new monitoring",
        ],
        offset: 5,
        hour: None,
        outcome: None,
    },
];

/// Logs a short history on the first clients, owned by `owner`: past calls, emails and meetings
/// done, and open follow-ups overdue, due today and coming up. Returns how many it added.
pub async fn load(
    db: &Db,
    tenant: TenantId,
    owner: UserId,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let lists = picklists::load(db, tenant).await?;
    let sort = Sort {
        column: clients::SORTS[0],
        descending: false,
    };
    let page = clients::list(
        db,
        tenant,
        &ClientFilter::default(),
        &sort,
        &Paging::Numbered {
            page: 1,
            per_page: CLIENTS,
        },
    )
    .await?;

    let mut added = 0;
    let mut tx = db.begin().await?;
    for (position, client) in page.page.items.iter().enumerate() {
        for (n, sample) in SAMPLES.iter().enumerate() {
            // Every client has its past; the open work spreads over a third of them each.
            if n >= 3 && position % 3 != n % 3 {
                continue;
            }
            let subject = sample.subjects[(position / 3) % sample.subjects.len()];
            let input = input(sample, subject, client.id, owner, today);
            let fields = ActivityFields::parse(&input, &lists, chrono_tz::Tz::UTC, now)
                .map_err(|e| anyhow::anyhow!("demo activity: {e}"))?;
            activities::create(&mut tx, tenant, &fields, Some(owner)).await?;
            added += 1;
        }
    }
    tx.commit().await?;
    Ok(added)
}

fn input(
    sample: &Sample,
    subject: &str,
    client: i64,
    owner: UserId,
    today: NaiveDate,
) -> ActivityInput {
    let day = if sample.offset >= 0 {
        today.checked_add_days(Days::new(sample.offset as u64))
    } else {
        today.checked_sub_days(Days::new(sample.offset.unsigned_abs()))
    }
    .unwrap_or(today);
    let (occurred_at, due_date) = match sample.hour {
        Some(hour) => (Some(format!("{day}T{hour:02}:00:00Z")), None),
        None => (None, Some(day.to_string())),
    };
    ActivityInput {
        activity_type: sample.kind.into(),
        subject: subject.into(),
        client_id: Some(client),
        owner_id: Some(owner.0),
        occurred_at,
        due_date,
        duration: sample.hour.map(|_| "30".into()),
        outcome: sample.outcome.map(str::to_owned),
        ..Default::default()
    }
}
