//! Activities: the calls, meetings, emails and notes of a relationship, done or planned, and the
//! calendar rules that decide what is due today for whom.
//!
//! An activity either happened (or will happen) at an instant, `occurred_at`, stored in UTC, or
//! is planned for a day, `due_date`, a date that never shifts between time zones. Which day an
//! instant falls on depends on who is looking, so "due today" and "overdue" are computed for the
//! viewing user's zone: [`Window`] turns a range of the viewer's days into bounds on both fields.

use crate::picklist::{ListKind, PickLists};
use crate::text;
use crate::validation::{Checker, Invalid};
use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, SubsecRound, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Limits on activity fields, shown to users when exceeded.
pub const SUBJECT_MAX: usize = 300;
pub const NOTES_MAX: usize = 50_000;
pub const OUTCOME_MAX: usize = 1_000;
pub const CONTACTS_MAX: usize = 50;
/// A week, in minutes: longer is a typing slip, not a meeting.
pub const DURATION_MAX: i32 = 7 * 24 * 60;

/// The activity type new follow-ups get, one of [`ListKind::ActivityType`]'s defaults.
pub const FOLLOW_UP_TYPE: &str = "Follow-up";

/// The type a follow-up gets when none is chosen: the workspace's Follow-up type, or its first
/// type if it removed that one; `None` when it has no types at all.
pub fn follow_up_type(lists: &PickLists) -> Option<i64> {
    lists
        .find(ListKind::ActivityType, FOLLOW_UP_TYPE)
        .or_else(|| lists.of(ListKind::ActivityType).next())
        .map(|v| v.id)
}

/// A follow-up's subject: "Follow-up: " and what it follows, said once and within the limit.
pub fn follow_up_subject(subject: &str) -> String {
    let prefix = "Follow-up: ";
    let room = SUBJECT_MAX - prefix.chars().count();
    let kept: String = subject
        .trim_start_matches(prefix)
        .chars()
        .take(room)
        .collect();
    format!("{prefix}{kept}")
}

/// An activity as submitted by a form, the API or an importer, before any checks.
#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    /// A label from the tenant's activity types.
    pub activity_type: String,
    pub subject: String,
    pub notes: Option<String>,
    pub client_id: Option<i64>,
    pub contact_ids: Vec<i64>,
    pub deal_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// A timestamp with an offset (`2025-05-18T10:00:00+02:00`), or a local date and time
    /// (`2025-05-18T10:00`, as a browser's datetime-local field sends it) read in the user's zone.
    pub occurred_at: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Minutes.
    pub duration: Option<String>,
    pub outcome: Option<String>,
    /// `YYYY-MM-DD`.
    pub follow_up_date: Option<String>,
    /// `None` decides from the schedule: see [`ActivityFields::parse`].
    pub completed: Option<bool>,
}

/// When an activity takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// At an instant: a call that was made, a meeting booked for 14:00.
    At(DateTime<Utc>),
    /// On a day, at no particular time: a task, a follow-up.
    Due(NaiveDate),
}

impl Schedule {
    pub fn occurred_at(self) -> Option<DateTime<Utc>> {
        match self {
            Schedule::At(at) => Some(at),
            Schedule::Due(_) => None,
        }
    }

    pub fn due_date(self) -> Option<NaiveDate> {
        match self {
            Schedule::At(_) => None,
            Schedule::Due(date) => Some(date),
        }
    }

    /// The instant lists sort by: a due date counts from its start in UTC, the same for every
    /// viewer, so an order never depends on who looks.
    pub fn sort_at(self) -> DateTime<Utc> {
        match self {
            Schedule::At(at) => at,
            Schedule::Due(date) => date.and_time(chrono::NaiveTime::MIN).and_utc(),
        }
    }
}

/// A checked activity, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityFields {
    pub type_id: i64,
    pub subject: String,
    /// Markdown, as typed.
    pub notes: Option<String>,
    pub client_id: Option<i64>,
    pub contact_ids: Vec<i64>,
    pub deal_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub schedule: Schedule,
    pub duration: Option<i32>,
    pub outcome: Option<String>,
    pub follow_up_date: Option<NaiveDate>,
    pub completed: bool,
}

impl ActivityFields {
    /// Checks every field of `input`, naming each one that is wrong. `zone` reads a local
    /// date and time; `now` fills in a missing schedule and the default completion.
    ///
    /// With neither `occurred_at` nor `due_date`, the activity is logged as happening now.
    /// Unless `completed` says otherwise, an activity at an instant already past is done (a
    /// logged call) and anything later or due on a day is open (a plan).
    pub fn parse(
        input: &ActivityInput,
        lists: &PickLists,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        let mut check = Checker::default();
        // Stored instants keep microseconds, as list cursors do: a finer one would sort after
        // the cursor that names it and come round again.
        let now = now.trunc_subsecs(6);

        let type_id = check.check(
            "type",
            lists.resolve(ListKind::ActivityType, &input.activity_type),
        );
        let subject = check.check("subject", text::required_line(&input.subject, SUBJECT_MAX));
        let notes = check.check(
            "notes",
            text::optional_block(input.notes.as_deref(), NOTES_MAX),
        );
        let occurred_at = check.check(
            "occurred_at",
            parse_instant(input.occurred_at.as_deref(), zone),
        );
        let due_date = check.check("due_date", parse_date(input.due_date.as_deref()));
        let duration = check.check("duration", parse_duration(input.duration.as_deref()));
        let outcome = check.check(
            "outcome",
            text::optional_block(input.outcome.as_deref(), OUTCOME_MAX),
        );
        let follow_up_date = check.check(
            "follow_up_date",
            parse_date(input.follow_up_date.as_deref()),
        );
        if input.contact_ids.len() > CONTACTS_MAX {
            check.add(
                "contacts",
                format!(
                    "lists {} contacts; the limit is {CONTACTS_MAX}",
                    input.contact_ids.len()
                ),
            );
        }
        let schedule = match (occurred_at.flatten(), due_date.flatten()) {
            (Some(_), Some(_)) => {
                check.add(
                    "due_date",
                    "give either a time it takes place (occurred_at) or a day it is due, not both",
                );
                None
            }
            (Some(at), None) => Some(Schedule::At(at)),
            (None, Some(date)) => Some(Schedule::Due(date)),
            (None, None) => Some(Schedule::At(now)),
        };
        check.finish()?;

        let schedule = schedule.unwrap_or(Schedule::At(now));
        let completed = input
            .completed
            .unwrap_or(matches!(schedule, Schedule::At(at) if at <= now));
        let mut contact_ids = input.contact_ids.clone();
        contact_ids.sort_unstable();
        contact_ids.dedup();

        Ok(Self {
            type_id: type_id.unwrap_or_default(),
            subject: subject.unwrap_or_default(),
            notes: notes.flatten(),
            client_id: input.client_id,
            contact_ids,
            deal_id: input.deal_id,
            owner_id: input.owner_id,
            schedule,
            duration: duration.flatten(),
            outcome: outcome.flatten(),
            follow_up_date: follow_up_date.flatten(),
            completed,
        })
    }
}

/// Reads a timestamp with an offset, or a local date and time in `zone`. A local time that a
/// daylight-saving change skips is refused; one it repeats is read as the earlier instant.
pub fn parse_instant(input: Option<&str>, zone: Tz) -> Result<Option<DateTime<Utc>>, String> {
    let Some(typed) = text::optional(input) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&typed) {
        return within_years(at.with_timezone(&Utc), &typed).map(Some);
    }

    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&typed, format).ok())
        .ok_or_else(|| {
            format!(
                "\"{typed}\" is not a date and time; use YYYY-MM-DDTHH:MM, with an offset such \
                 as +02:00 or Z, or without one for your time zone"
            )
        })?;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
            within_years(at.with_timezone(&Utc), &typed).map(Some)
        }
        LocalResult::None => Err(format!(
            "{typed} does not exist in {zone}: the clocks skip it for daylight saving time"
        )),
    }
}

/// The latest year an instant may fall in, in UTC: stored instants sort as text on SQLite,
/// and iCalendar has four-digit years.
pub const YEAR_MAX: i32 = 9999;

/// `at` to the microsecond, if it falls in the years 1 to [`YEAR_MAX`] in UTC.
fn within_years(at: DateTime<Utc>, typed: &str) -> Result<DateTime<Utc>, String> {
    if !(1..=YEAR_MAX).contains(&at.year()) {
        return Err(format!(
            "{typed} falls outside the years 0001 to {YEAR_MAX} in UTC"
        ));
    }
    Ok(at.trunc_subsecs(6))
}

/// Reads an optional `YYYY-MM-DD` date.
pub fn parse_date(input: Option<&str>) -> Result<Option<NaiveDate>, String> {
    crate::deal::parse_date(input)
}

fn parse_duration(input: Option<&str>) -> Result<Option<i32>, String> {
    let Some(typed) = text::optional(input) else {
        return Ok(None);
    };
    let minutes: i32 = typed
        .parse()
        .map_err(|_| format!("\"{typed}\" is not a whole number of minutes"))?;
    if !(0..=DURATION_MAX).contains(&minutes) {
        return Err(format!(
            "{minutes} minutes is out of range; use 0 to {DURATION_MAX}"
        ));
    }
    Ok(Some(minutes))
}

/// Where an activity stands, as the activity list filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Completed,
    /// Open, and due or taking place today in the viewer's zone.
    DueToday,
    /// Open, and due or taking place before today in the viewer's zone.
    Overdue,
    /// Open, and due or taking place after today in the viewer's zone.
    Upcoming,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::Completed,
        Status::DueToday,
        Status::Overdue,
        Status::Upcoming,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Completed => "completed",
            Status::DueToday => "due_today",
            Status::Overdue => "overdue",
            Status::Upcoming => "upcoming",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::Completed => "Completed",
            Status::DueToday => "Due today",
            Status::Overdue => "Overdue",
            Status::Upcoming => "Upcoming",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a status; use open, completed, due_today, overdue or upcoming",
                    s.trim()
                )
            })
    }

    /// Whether the status means open activities only.
    pub fn open_only(self) -> bool {
        self != Status::Completed
    }

    /// The days this status covers for a viewer whose today is `today`.
    pub fn days(self, today: NaiveDate) -> DayRange {
        match self {
            Status::Open | Status::Completed => DayRange::default(),
            Status::DueToday => DayRange::between(Some(today), Some(today)),
            Status::Overdue => DayRange::between(None, today.pred_opt()),
            Status::Upcoming => DayRange::between(today.succ_opt(), None),
        }
    }
}

/// A range of a viewer's days, both ends included; an open end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayRange {
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

impl DayRange {
    pub fn between(first: Option<NaiveDate>, last: Option<NaiveDate>) -> Self {
        Self { first, last }
    }

    /// The narrower of two ranges: both must hold.
    pub fn and(self, other: DayRange) -> Self {
        Self {
            first: later(self.first, other.first),
            last: earlier(self.last, other.last),
        }
    }

    pub fn is_unbounded(self) -> bool {
        self.first.is_none() && self.last.is_none()
    }

    /// The same days as bounds on each kind of schedule, for a viewer in `zone`.
    pub fn window(self, zone: Tz) -> Window {
        Window {
            due_from: self.first,
            due_to: self.last,
            at_from: self.first.map(|day| start_of_day(day, zone)),
            // Past the last storable year, every instant is before the end.
            at_before: self
                .last
                .and_then(|day| day.checked_add_days(Days::new(1)))
                .filter(|day| day.year() <= YEAR_MAX)
                .map(|day| start_of_day(day, zone)),
        }
    }

    /// Whether `schedule` falls on one of these days for a viewer in `zone`.
    pub fn contains(self, schedule: Schedule, zone: Tz) -> bool {
        self.window(zone).contains(schedule)
    }
}

fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn earlier(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A range of days as the queries use it: dates compared as dates, instants between the UTC
/// moments the viewer's days begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub at_from: Option<DateTime<Utc>>,
    /// Exclusive: the start of the day after the last.
    pub at_before: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, schedule: Schedule) -> bool {
        match schedule {
            Schedule::Due(date) => {
                self.due_from.is_none_or(|from| date >= from)
                    && self.due_to.is_none_or(|to| date <= to)
            }
            Schedule::At(at) => {
                self.at_from.is_none_or(|from| at >= from)
                    && self.at_before.is_none_or(|before| at < before)
            }
        }
    }
}

/// The instant `day` begins in `zone`: local midnight, or the first moment after it where a
/// daylight-saving change skips midnight (as in America/Havana or Asia/Beirut).
pub fn start_of_day(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let mut local = day.and_time(chrono::NaiveTime::MIN);
    for _ in 0..=24 * 4 {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                return at.with_timezone(&Utc);
            }
            LocalResult::None => local += chrono::Duration::minutes(15),
        }
    }
    // No zone skips a whole day's first 24 hours; keep the day's UTC start if one ever did.
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// How often a repeating activity comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Weekly,
}

impl Repeat {
    /// The next occurrence after `at`: the same local time of day in `zone`, a period later on
    /// the calendar, so a weekly 09:00 stays at 09:00 across a daylight-saving change and its
    /// UTC time moves instead.
    pub fn next(self, at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        self.nth(at, 1, zone)
    }

    /// The `n`th occurrence after `first`, counted on the calendar from `first`'s local time,
    /// so an occurrence moved by a daylight-saving gap does not move the ones after it.
    fn nth(self, first: DateTime<Utc>, n: u32, zone: Tz) -> DateTime<Utc> {
        let local = first.with_timezone(&zone).naive_local();
        let next = match self {
            Repeat::Weekly => local + chrono::Duration::days(7 * i64::from(n)),
        };
        match zone.from_local_datetime(&next) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            // The time is skipped that day: the hour after the gap is what a clock shows.
            LocalResult::None => zone
                .from_utc_datetime(&(next - zone_offset(first, zone)))
                .with_timezone(&Utc),
        }
    }

    /// The first `count` occurrences, starting with `first`.
    pub fn occurrences(self, first: DateTime<Utc>, zone: Tz, count: usize) -> Vec<DateTime<Utc>> {
        (0..count as u32)
            .map(|n| self.nth(first, n, zone))
            .collect()
    }
}

fn zone_offset(at: DateTime<Utc>, zone: Tz) -> chrono::Duration {
    use chrono::Offset;
    let seconds = zone
        .offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc();
    chrono::Duration::seconds(i64::from(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_ups_subject_names_what_it_follows_without_repeating_the_prefix() {
        assert_eq!(follow_up_subject("Renewal call"), "Follow-up: Renewal call");
        assert_eq!(
            follow_up_subject("Follow-up: Renewal call"),
            "Follow-up: Renewal call"
        );
        let long = "x".repeat(400);
        assert_eq!(follow_up_subject(&long).chars().count(), SUBJECT_MAX);
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("test instants are valid")
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    const ROME: Tz = chrono_tz::Europe::Rome;
    const LOS_ANGELES: Tz = chrono_tz::America::Los_Angeles;
    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    #[test]
    fn a_day_begins_at_local_midnight_in_the_viewers_zone() {
        assert_eq!(
            start_of_day(date("2025-05-18"), ROME),
            at("2025-05-17T22:00:00Z")
        );
        assert_eq!(
            start_of_day(date("2025-12-01"), ROME),
            at("2025-11-30T23:00:00Z")
        );
        assert_eq!(
            start_of_day(date("2025-03-09"), LOS_ANGELES),
            at("2025-03-09T08:00:00Z")
        );
        // Havana springs forward at midnight: the day begins at 01:00 local.
        assert_eq!(
            start_of_day(date("2025-03-09"), chrono_tz::America::Havana),
            at("2025-03-09T05:00:00Z")
        );
    }

    #[test]
    fn due_today_and_overdue_turn_over_at_local_midnight_west_of_utc() {
        // 23:30 in Los Angeles on 17 May is already 18 May in UTC.
        let call = Schedule::At(at("2025-05-18T06:30:00Z"));
        let today = date("2025-05-17");
        assert!(Status::DueToday.days(today).contains(call, LOS_ANGELES));
        assert!(!Status::Overdue.days(today).contains(call, LOS_ANGELES));

        // One minute after local midnight the same call is overdue.
        let tomorrow = date("2025-05-18");
        assert!(Status::Overdue.days(tomorrow).contains(call, LOS_ANGELES));
        assert!(!Status::DueToday.days(tomorrow).contains(call, LOS_ANGELES));
        // In UTC it is due on the 18th.
        assert!(Status::DueToday.days(tomorrow).contains(call, Tz::UTC));
    }

    #[test]
    fn due_today_and_overdue_turn_over_at_local_midnight_east_of_utc() {
        // 00:15 in Tokyo on 18 May is still 17 May in UTC.
        let meeting = Schedule::At(at("2025-05-17T15:15:00Z"));
        assert!(
            Status::DueToday
                .days(date("2025-05-18"))
                .contains(meeting, TOKYO)
        );
        assert!(
            Status::Upcoming
                .days(date("2025-05-17"))
                .contains(meeting, TOKYO)
        );
        assert!(
            Status::Overdue
                .days(date("2025-05-19"))
                .contains(meeting, TOKYO)
        );
        assert!(
            Status::DueToday
                .days(date("2025-05-17"))
                .contains(meeting, Tz::UTC)
        );
    }

    #[test]
    fn a_due_date_is_the_same_day_in_every_zone() {
        let task = Schedule::Due(date("2025-05-18"));
        for zone in [LOS_ANGELES, Tz::UTC, TOKYO] {
            assert!(
                Status::DueToday
                    .days(date("2025-05-18"))
                    .contains(task, zone)
            );
            assert!(
                Status::Overdue
                    .days(date("2025-05-19"))
                    .contains(task, zone)
            );
            assert!(
                Status::Upcoming
                    .days(date("2025-05-17"))
                    .contains(task, zone)
            );
        }
    }

    #[test]
    fn c15_a_weekly_follow_up_keeps_its_local_time_across_the_dst_change() {
        // "Mondays 09:00 Europe/Rome" from 24 March 2025; EU summer time starts on the 30th.
        let first = parse_instant(Some("2025-03-24T09:00"), ROME)
            .expect("valid")
            .expect("given");
        assert_eq!(first, at("2025-03-24T08:00:00Z"));
        assert_eq!(
            Repeat::Weekly.occurrences(first, ROME, 3),
            [
                at("2025-03-24T08:00:00Z"),
                at("2025-03-31T07:00:00Z"),
                at("2025-04-07T07:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_local_time_is_read_in_the_users_zone_and_an_offset_wins() {
        assert_eq!(
            parse_instant(Some("2025-12-01T10:00"), ROME),
            Ok(Some(at("2025-12-01T09:00:00Z")))
        );
        assert_eq!(
            parse_instant(Some("2025-12-01T10:00:00-05:00"), ROME),
            Ok(Some(at("2025-12-01T15:00:00Z")))
        );
        let skipped = parse_instant(Some("2025-03-30T02:30"), ROME).expect_err("skipped");
        assert!(
            skipped.contains("does not exist in Europe/Rome"),
            "{skipped}"
        );
        assert!(parse_instant(Some("18/05/2025"), ROME).is_err());
    }

    #[test]
    fn statuses_are_read_as_the_filters_spell_them() {
        assert_eq!(Status::parse("due_today"), Ok(Status::DueToday));
        assert_eq!(Status::parse("Due today"), Ok(Status::DueToday));
        assert!(
            Status::parse("late")
                .expect_err("unknown")
                .contains("overdue")
        );
    }

    #[test]
    fn a_range_and_a_status_narrow_each_other() {
        let today = date("2025-05-18");
        let range = DayRange::between(Some(date("2025-05-01")), Some(date("2025-05-31")));
        assert_eq!(
            range.and(Status::Overdue.days(today)),
            DayRange::between(Some(date("2025-05-01")), Some(date("2025-05-17")))
        );
    }
}
