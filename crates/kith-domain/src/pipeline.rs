//! The deal pipeline: tenant-defined stages and the rules for moving a deal between them.
//!
//! Won and lost come from a stage's flags, never from its name, so stages may be named in any
//! language (SPEC §5.1).

use crate::text;
use crate::validation::{Checker, Invalid};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// Limits on stage fields, shown to users when exceeded.
pub const NAME_MAX: usize = 100;

/// The color of a stage saved without one: a quiet slate grey.
pub const DEFAULT_COLOR: &str = "#94a3b8";

/// The stages a new tenant starts with, in board order: name, probability, is_won, is_lost and
/// color.
pub const DEFAULT_STAGES: [(&str, u8, bool, bool, &str); 6] = [
    ("Qualified", 10, false, false, "#60a5fa"),
    ("Discovery", 25, false, false, "#a78bfa"),
    ("Proposal", 50, false, false, "#fbbf24"),
    ("Negotiation", 75, false, false, "#fb923c"),
    ("Won", 100, true, false, "#34d399"),
    ("Lost", 0, false, true, "#f87171"),
];

/// Whether a stage holds deals still being worked, or deals that are won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    /// The kind of a stage from its flags; the caller guarantees they are not both set.
    pub fn from_flags(is_won: bool, is_lost: bool) -> StageKind {
        match (is_won, is_lost) {
            (true, _) => StageKind::Won,
            (false, true) => StageKind::Lost,
            (false, false) => StageKind::Open,
        }
    }

    /// Won or lost: a deal here has a close date.
    pub fn is_closed(self) -> bool {
        self != StageKind::Open
    }
}

/// A stage as submitted by a form, the API or the settings page, before any checks. The
/// probability is the text typed, so that every path shares one parser.
#[derive(Debug, Clone, Default)]
pub struct StageInput {
    pub name: String,
    pub color: Option<String>,
    pub probability: Option<String>,
    pub is_won: bool,
    pub is_lost: bool,
}

/// A checked stage, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFields {
    pub name: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    /// Win probability in percent, 0 to 100.
    pub probability: u8,
    pub is_won: bool,
    pub is_lost: bool,
}

impl StageFields {
    /// Checks every field of `input`, naming each one that is wrong.
    pub fn parse(input: &StageInput) -> Result<Self, Invalid> {
        let mut check = Checker::default();

        let name = check.check("name", text::required_line(&input.name, NAME_MAX));
        let color = check.check("color", parse_color(input.color.as_deref()));
        let probability = check.check(
            "probability",
            parse_probability(input.probability.as_deref()),
        );
        if input.is_won && input.is_lost {
            check.add("is_lost", "a stage cannot be both won and lost");
        }
        check.finish()?;

        Ok(Self {
            name: name.unwrap_or_default(),
            color: color.unwrap_or_default(),
            probability: probability.unwrap_or_default(),
            is_won: input.is_won,
            is_lost: input.is_lost,
        })
    }

    pub fn kind(&self) -> StageKind {
        StageKind::from_flags(self.is_won, self.is_lost)
    }
}

/// A hex color such as `#0EA5E9`, stored lower case; blank gives [`DEFAULT_COLOR`].
pub fn parse_color(input: Option<&str>) -> Result<String, String> {
    let Some(color) = text::optional(input) else {
        return Ok(DEFAULT_COLOR.to_owned());
    };
    let hex = color.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(color.to_ascii_lowercase())
    } else {
        Err(format!("\"{color}\" is not a color like {DEFAULT_COLOR}"))
    }
}

/// A win probability typed as a whole percentage; a trailing `%` is allowed.
pub fn parse_probability(input: Option<&str>) -> Result<u8, String> {
    let Some(typed) = text::optional(input) else {
        return Err("is required".into());
    };
    let number = typed.strip_suffix('%').unwrap_or(&typed).trim_end();
    match number.parse::<u8>() {
        Ok(percent) if percent <= 100 && number.chars().all(|c| c.is_ascii_digit()) => Ok(percent),
        _ => Err("must be a whole number from 0 to 100".into()),
    }
}

/// Refuses a set of stages with no open one: deals could then be neither created nor worked.
pub fn check_open_stage_remains(stages: impl IntoIterator<Item = StageKind>) -> Result<(), String> {
    if stages.into_iter().any(|kind| kind == StageKind::Open) {
        Ok(())
    } else {
        Err("at least one open stage must remain".into())
    }
}

/// The stage a deal is moving to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePosition {
    pub stage_id: i64,
    pub kind: StageKind,
    pub probability: u8,
}

/// The stage-dependent fields of a deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealStage {
    pub stage_id: i64,
    pub probability: u8,
    pub close_date: Option<NaiveDate>,
}

/// Places a deal in stage `to`: the one rule that the form, the board, the API, bulk edits,
/// imports and stage deletion all apply (SPEC §5.2).
///
/// Entering a stage takes its probability. Entering a won or lost stage, including from the other
/// of the two or from another won stage, sets the close date to `today` in the acting user's time
/// zone; entering an open stage clears it. Staying in the same stage changes nothing.
///
/// `current` is `None` for a new deal. `supplied_close_date` is an importer's close date for a
/// closed deal, kept instead of `today`. The kind of the current stage (`_from`) is accepted but
/// not consulted: every rule depends only on the target stage and on whether it differs from the
/// current one.
pub fn move_deal(
    current: Option<&DealStage>,
    _from: Option<StageKind>,
    to: &StagePosition,
    today: NaiveDate,
    supplied_close_date: Option<NaiveDate>,
) -> DealStage {
    if let Some(current) = current.filter(|c| c.stage_id == to.stage_id) {
        let mut unchanged = current.clone();
        if to.kind.is_closed() && supplied_close_date.is_some() {
            unchanged.close_date = supplied_close_date;
        }
        return unchanged;
    }

    let close_date = to
        .kind
        .is_closed()
        .then(|| supplied_close_date.unwrap_or(today));
    DealStage {
        stage_id: to.stage_id,
        probability: to.probability,
        close_date,
    }
}

/// Today's date for a user in `time_zone` (an IANA name); an unknown zone counts as UTC.
pub fn today_in(time_zone: &str, now: DateTime<Utc>) -> NaiveDate {
    let zone: Tz = time_zone.trim().parse().unwrap_or(Tz::UTC);
    now.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("test dates are valid")
    }

    const OPEN: StagePosition = StagePosition {
        stage_id: 2,
        kind: StageKind::Open,
        probability: 25,
    };
    const OTHER_OPEN: StagePosition = StagePosition {
        stage_id: 3,
        kind: StageKind::Open,
        probability: 50,
    };
    const WON: StagePosition = StagePosition {
        stage_id: 5,
        kind: StageKind::Won,
        probability: 100,
    };
    const OTHER_WON: StagePosition = StagePosition {
        stage_id: 7,
        kind: StageKind::Won,
        probability: 90,
    };
    const LOST: StagePosition = StagePosition {
        stage_id: 6,
        kind: StageKind::Lost,
        probability: 0,
    };

    fn in_stage(to: &StagePosition, close_date: Option<&str>) -> DealStage {
        DealStage {
            stage_id: to.stage_id,
            probability: to.probability,
            close_date: close_date.map(date),
        }
    }

    #[test]
    fn every_bad_stage_field_is_named() {
        let input = StageInput {
            name: " ".into(),
            color: Some("red".into()),
            probability: Some("101".into()),
            is_won: true,
            is_lost: true,
        };
        let err = StageFields::parse(&input).expect_err("invalid");
        assert_eq!(err.message_for("name"), Some("is required"));
        assert_eq!(
            err.message_for("color"),
            Some("\"red\" is not a color like #94a3b8")
        );
        assert_eq!(
            err.message_for("probability"),
            Some("must be a whole number from 0 to 100")
        );
        assert_eq!(
            err.message_for("is_lost"),
            Some("a stage cannot be both won and lost")
        );
    }

    #[test]
    fn stages_are_tidied() {
        let input = StageInput {
            name: " Demo ".into(),
            color: Some("#0EA5E9".into()),
            probability: Some(" 40 % ".into()),
            is_won: false,
            is_lost: false,
        };
        let stage = StageFields::parse(&input).expect("valid");
        assert_eq!(
            stage,
            StageFields {
                name: "Demo".into(),
                color: "#0ea5e9".into(),
                probability: 40,
                is_won: false,
                is_lost: false,
            }
        );
        assert_eq!(stage.kind(), StageKind::Open);
        assert_eq!(parse_color(Some("  ")), Ok("#94a3b8".into()));
    }

    #[test]
    fn probability_is_a_whole_percentage() {
        assert_eq!(parse_probability(Some("0")), Ok(0));
        assert_eq!(parse_probability(Some("100")), Ok(100));
        assert_eq!(parse_probability(None), Err("is required".into()));
        for bad in ["-1", "+5", "12.5", "ten", "256"] {
            assert_eq!(
                parse_probability(Some(bad)),
                Err("must be a whole number from 0 to 100".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn default_stages_are_valid_and_distinct() {
        let mut colors: Vec<&str> = Vec::new();
        for (name, probability, is_won, is_lost, color) in DEFAULT_STAGES {
            let input = StageInput {
                name: name.into(),
                color: Some(color.into()),
                probability: Some(probability.to_string()),
                is_won,
                is_lost,
            };
            assert!(StageFields::parse(&input).is_ok(), "{name}");
            assert!(!colors.contains(&color), "{name} repeats a color");
            colors.push(color);
        }
        let kinds = DEFAULT_STAGES.map(|(_, _, won, lost, _)| StageKind::from_flags(won, lost));
        assert_eq!(
            kinds,
            [
                StageKind::Open,
                StageKind::Open,
                StageKind::Open,
                StageKind::Open,
                StageKind::Won,
                StageKind::Lost
            ]
        );
    }

    #[test]
    fn one_open_stage_must_remain() {
        assert_eq!(
            check_open_stage_remains([StageKind::Open, StageKind::Won]),
            Ok(())
        );
        assert_eq!(
            check_open_stage_remains([StageKind::Won, StageKind::Lost]),
            Err("at least one open stage must remain".into())
        );
        assert!(check_open_stage_remains([]).is_err());
    }

    #[test]
    fn winning_stamps_today_and_the_stage_probability() {
        let deal = in_stage(&OPEN, None);
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Open),
            &WON,
            date("2027-03-31"),
            None,
        );
        assert_eq!(moved, in_stage(&WON, Some("2027-03-31")));
    }

    #[test]
    fn reopening_clears_the_close_date() {
        let deal = in_stage(&WON, Some("2027-03-31"));
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Won),
            &OPEN,
            date("2027-04-02"),
            None,
        );
        assert_eq!(moved, in_stage(&OPEN, None));
    }

    #[test]
    fn losing_stamps_today() {
        let deal = in_stage(&OPEN, None);
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Open),
            &LOST,
            date("2027-03-31"),
            None,
        );
        assert_eq!(moved, in_stage(&LOST, Some("2027-03-31")));
    }

    #[test]
    fn lost_then_won_later_takes_the_new_date() {
        let deal = in_stage(&LOST, Some("2027-01-15"));
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Lost),
            &WON,
            date("2027-02-20"),
            None,
        );
        assert_eq!(moved, in_stage(&WON, Some("2027-02-20")));
    }

    #[test]
    fn another_won_stage_is_entered_afresh() {
        let deal = in_stage(&WON, Some("2027-01-15"));
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Won),
            &OTHER_WON,
            date("2027-02-20"),
            None,
        );
        assert_eq!(moved, in_stage(&OTHER_WON, Some("2027-02-20")));
    }

    #[test]
    fn open_to_open_has_no_close_date() {
        let deal = in_stage(&OPEN, None);
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Open),
            &OTHER_OPEN,
            date("2027-02-20"),
            None,
        );
        assert_eq!(moved, in_stage(&OTHER_OPEN, None));
    }

    #[test]
    fn staying_put_changes_nothing() {
        // The stage's probability changed since the deal entered it; the deal keeps its own.
        let deal = DealStage {
            stage_id: WON.stage_id,
            probability: 80,
            close_date: Some(date("2027-01-15")),
        };
        let moved = move_deal(
            Some(&deal),
            Some(StageKind::Won),
            &WON,
            date("2027-02-20"),
            None,
        );
        assert_eq!(moved, deal);
    }

    #[test]
    fn new_deals_in_closed_stages_get_a_close_date() {
        let today = date("2027-02-20");
        assert_eq!(
            move_deal(None, None, &WON, today, None),
            in_stage(&WON, Some("2027-02-20"))
        );
        assert_eq!(
            move_deal(None, None, &OPEN, today, None),
            in_stage(&OPEN, None)
        );
    }

    #[test]
    fn imports_keep_their_close_date() {
        let today = date("2027-02-20");
        let supplied = Some(date("2025-11-30"));
        assert_eq!(
            move_deal(None, None, &LOST, today, supplied),
            in_stage(&LOST, Some("2025-11-30"))
        );

        // Re-importing a deal already in that stage corrects its date.
        let deal = in_stage(&LOST, Some("2026-01-01"));
        let moved = move_deal(Some(&deal), Some(StageKind::Lost), &LOST, today, supplied);
        assert_eq!(moved, in_stage(&LOST, Some("2025-11-30")));

        // An open deal has no close date, whatever the file says.
        assert_eq!(
            move_deal(None, None, &OPEN, today, supplied),
            in_stage(&OPEN, None)
        );
    }

    #[test]
    fn today_depends_on_the_users_time_zone() {
        let now: DateTime<Utc> = "2026-12-03T23:30:00Z".parse().expect("valid instant");
        assert_eq!(today_in("Asia/Tokyo", now), date("2026-12-04"));
        assert_eq!(today_in("America/New_York", now), date("2026-12-03"));
        assert_eq!(today_in("Mars/Base", now), date("2026-12-03"));
    }
}
