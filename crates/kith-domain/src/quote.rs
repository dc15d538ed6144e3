//! Quotes (SPEC §5.4): what a tenant offers a client, line by line, with the totals worked out
//! the same way on every path.
//!
//! Every amount is an integer of minor units of the quote's currency, and each line is rounded
//! on its own, half away from zero: the net (quantity × unit price), then the discount on the
//! net, then the tax on what is left. A quote's totals are sums of those rounded line figures,
//! so the page, the printable view and the API always agree to the cent.

use crate::deal::RecurringPeriod;
use crate::money::{self, AMOUNT_MAX};
use crate::pipeline::parse_probability;
use crate::tenant;
use crate::text;
use crate::validation::{Checker, Invalid};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Limits on quote fields, shown to users when exceeded.
pub const DESCRIPTION_MAX: usize = 500;
pub const NOTES_MAX: usize = 50_000;
pub const LINES_MAX: usize = 200;

/// The largest quantity of one line, in hundredths: a million units.
pub const QUANTITY_MAX: i64 = 100_000_000;

/// Where a quote stands with the client.
// TODO(#3): nothing marks a sent quote expired when its valid-until date passes; the user sets
// "expired" by hand, and the quote page only points the date out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStatus {
    Draft,
    Sent,
    Accepted,
    Declined,
    Expired,
}

impl QuoteStatus {
    /// Every status, in the order a quote usually goes through them.
    pub const ALL: [QuoteStatus; 5] = [
        QuoteStatus::Draft,
        QuoteStatus::Sent,
        QuoteStatus::Accepted,
        QuoteStatus::Declined,
        QuoteStatus::Expired,
    ];

    /// The word stored and sent by the API: `draft`, `sent`…
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Draft => "draft",
            QuoteStatus::Sent => "sent",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Declined => "declined",
            QuoteStatus::Expired => "expired",
        }
    }

    /// The word shown on pages: `Draft`, `Sent`…
    pub fn label(self) -> &'static str {
        match self {
            QuoteStatus::Draft => "Draft",
            QuoteStatus::Sent => "Sent",
            QuoteStatus::Accepted => "Accepted",
            QuoteStatus::Declined => "Declined",
            QuoteStatus::Expired => "Expired",
        }
    }

    /// Reads a status in any case.
    pub fn parse(s: &str) -> Result<Self, String> {
        let typed = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == typed)
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a quote status; use draft, sent, accepted, declined or expired",
                    s.trim()
                )
            })
    }
}

/// One line as submitted by a form or the API, before any checks. Numbers are the text typed;
/// the unit price is read in the quote's currency.
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    pub description: String,
    /// Blank means 1.
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
    /// Whole percent, 0–100; blank means 0.
    pub discount_percent: Option<String>,
    /// Whole percent, 0–100; blank means 0.
    pub tax_percent: Option<String>,
    /// Shown on the quote but not counted in its totals: an extra the client may choose.
    pub optional: bool,
    /// Billed every period rather than once; also summed as the recurring total.
    pub recurring: bool,
}

/// A checked line, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteLine {
    pub description: String,
    /// In hundredths: 150 is 1.5 units.
    pub quantity: i64,
    /// In minor units of the quote's currency.
    pub unit_price: i64,
    pub discount_percent: u8,
    pub tax_percent: u8,
    pub optional: bool,
    pub recurring: bool,
}

/// A line's figures in minor units, each rounded half away from zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LineAmounts {
    /// Quantity × unit price.
    pub net: i64,
    /// The discount percentage of the net.
    pub discount: i64,
    /// The tax percentage of the net after discount.
    pub tax: i64,
    /// Net − discount + tax.
    pub total: i64,
}

impl QuoteLine {
    /// This line's net, discount, tax and total.
    pub fn amounts(&self) -> LineAmounts {
        line_amounts(
            self.quantity,
            self.unit_price,
            self.discount_percent,
            self.tax_percent,
        )
    }
}

/// The figures of one line: `quantity` in hundredths, `unit_price` in minor units, percentages
/// 0–100 (a larger one is taken as 100).
pub fn line_amounts(
    quantity: i64,
    unit_price: i64,
    discount_percent: u8,
    tax_percent: u8,
) -> LineAmounts {
    let net = money::divide_rounded(i128::from(quantity) * i128::from(unit_price), 100);
    let discount = money::weighted(net, discount_percent);
    let taxable = net.saturating_sub(discount);
    let tax = money::weighted(taxable, tax_percent);
    LineAmounts {
        net,
        discount,
        tax,
        total: taxable.saturating_add(tax),
    }
}

/// A quote's totals in minor units: sums of the rounded line figures. Optional lines are shown
/// but not counted; recurring lines count in every total and are also summed on their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QuoteTotals {
    /// The lines' nets.
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    /// The totals of the recurring lines: what the client pays each period.
    pub recurring_total: i64,
}

/// Adds up the lines that count (every line not marked optional).
pub fn totals(lines: &[QuoteLine]) -> QuoteTotals {
    let mut sums = QuoteTotals::default();
    for line in lines.iter().filter(|l| !l.optional) {
        let amounts = line.amounts();
        sums.subtotal = sums.subtotal.saturating_add(amounts.net);
        sums.discount = sums.discount.saturating_add(amounts.discount);
        sums.tax = sums.tax.saturating_add(amounts.tax);
        sums.total = sums.total.saturating_add(amounts.total);
        if line.recurring {
            sums.recurring_total = sums.recurring_total.saturating_add(amounts.total);
        }
    }
    sums
}

/// A quote as submitted by a form or the API, before any checks.
#[derive(Debug, Clone, Default)]
pub struct QuoteInput {
    pub client_id: Option<i64>,
    pub deal_id: Option<i64>,
    /// Blank means draft.
    pub status: Option<String>,
    /// `YYYY-MM-DD`.
    pub valid_until: Option<String>,
    /// Blank means the tenant's currency.
    pub currency: Option<String>,
    pub notes: Option<String>,
    pub lines: Vec<LineInput>,
}

/// A checked quote, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteFields {
    pub client_id: i64,
    pub deal_id: Option<i64>,
    pub status: QuoteStatus,
    pub valid_until: Option<NaiveDate>,
    pub currency: String,
    /// Markdown, as typed.
    pub notes: Option<String>,
    pub lines: Vec<QuoteLine>,
}

impl QuoteFields {
    /// Checks every field of `input`, naming each one that is wrong (`lines[2].unit_price`).
    pub fn parse(input: &QuoteInput, tenant_currency: &str) -> Result<Self, Invalid> {
        let mut check = Checker::default();

        if input.client_id.is_none() {
            check.add("client", "is required; a quote is addressed to a client");
        }
        let status = match text::optional(input.status.as_deref()) {
            None => Some(QuoteStatus::Draft),
            Some(typed) => check.check("status", QuoteStatus::parse(&typed)),
        };
        let valid_until = check.check(
            "valid_until",
            crate::deal::parse_date(input.valid_until.as_deref()),
        );
        let currency = text::optional(input.currency.as_deref());
        let currency = check.check(
            "currency",
            tenant::parse_currency(currency.as_deref().unwrap_or(tenant_currency)),
        );
        let notes = check.check(
            "notes",
            text::optional_block(input.notes.as_deref(), NOTES_MAX),
        );

        let lines = parse_lines(&mut check, &input.lines, currency.as_deref());
        check.finish()?;

        Ok(Self {
            client_id: input.client_id.unwrap_or_default(),
            deal_id: input.deal_id,
            status: status.unwrap_or(QuoteStatus::Draft),
            valid_until: valid_until.flatten(),
            currency: currency.unwrap_or_default(),
            notes: notes.flatten(),
            lines,
        })
    }

    /// The quote's totals over its counted lines.
    pub fn totals(&self) -> QuoteTotals {
        totals(&self.lines)
    }
}

/// Checks each line. Unit prices are read in `currency`; when it is unknown its own error says
/// so, and the prices are not reported again.
fn parse_lines(check: &mut Checker, input: &[LineInput], currency: Option<&str>) -> Vec<QuoteLine> {
    if input.is_empty() {
        check.add("lines", "add at least one line");
    }
    if input.len() > LINES_MAX {
        check.add(
            "lines",
            format!("has {} lines; the limit is {LINES_MAX}", input.len()),
        );
    }

    let mut lines = Vec::with_capacity(input.len());
    for (i, line) in input.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let description = check.check(
            &field("description"),
            text::required_line(&line.description, DESCRIPTION_MAX),
        );
        let quantity = check.check(&field("quantity"), parse_quantity(line.quantity.as_deref()));
        let unit_price = match currency {
            Some(code) => check.check(
                &field("unit_price"),
                match text::optional(line.unit_price.as_deref()) {
                    None => Err("is required".to_owned()),
                    Some(typed) => money::parse_amount(&typed, code),
                },
            ),
            None => None,
        };
        let discount = check.check(
            &field("discount_percent"),
            parse_percent(line.discount_percent.as_deref()),
        );
        let tax = check.check(
            &field("tax_percent"),
            parse_percent(line.tax_percent.as_deref()),
        );

        let (Some(description), Some(quantity), Some(unit_price), Some(discount), Some(tax)) =
            (description, quantity, unit_price, discount, tax)
        else {
            continue;
        };
        let line = QuoteLine {
            description,
            quantity,
            unit_price,
            discount_percent: discount,
            tax_percent: tax,
            optional: line.optional,
            recurring: line.recurring,
        };
        // Each figure fits in an i64 only while the net stays within the amount ceiling.
        if line.amounts().net > AMOUNT_MAX {
            let ceiling = money::format_amount(AMOUNT_MAX, currency.unwrap_or_default());
            check.add(
                &format!("lines[{i}]"),
                format!("comes to more than {ceiling}; split it into smaller lines"),
            );
            continue;
        }
        lines.push(line);
    }
    lines
}

/// What "create quote from deal" reads from a deal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealTerms<'a> {
    pub deal_id: i64,
    pub title: &'a str,
    pub client_id: Option<i64>,
    /// In minor units of `currency`.
    pub value: i64,
    /// The recurring value and how often it is billed, if the deal has one.
    pub recurring: Option<(i64, RecurringPeriod)>,
    pub currency: &'a str,
}

/// The draft quote a deal starts: addressed to the deal's client, in its currency, with one line
/// for the deal's value and, when the deal has a recurring value, a recurring line for it. A
/// deal without a client cannot be quoted (a quote is addressed to a client).
pub fn draft_from_deal(deal: &DealTerms<'_>) -> Result<QuoteFields, Invalid> {
    let Some(client_id) = deal.client_id else {
        return Err(Invalid::one(
            "client",
            "the deal has no client; give it a client first, as a quote is addressed to one",
        ));
    };
    let line = |description: String, unit_price: i64, recurring: bool| QuoteLine {
        description,
        quantity: 100,
        unit_price,
        discount_percent: 0,
        tax_percent: 0,
        optional: false,
        recurring,
    };
    let mut lines = vec![line(deal.title.to_owned(), deal.value, false)];
    if let Some((value, period)) = deal.recurring {
        let description = format!("{} ({})", deal.title, period.as_str());
        lines.push(line(description, value, true));
    }
    Ok(QuoteFields {
        client_id,
        deal_id: Some(deal.deal_id),
        status: QuoteStatus::Draft,
        valid_until: None,
        currency: deal.currency.to_owned(),
        notes: None,
        lines,
    })
}

/// A quantity typed with up to two decimals ("1.5", "12", "1,000"), in hundredths; blank is 1.
pub fn parse_quantity(input: Option<&str>) -> Result<i64, String> {
    let Some(typed) = text::optional(input) else {
        return Ok(100);
    };
    if typed.starts_with(['-', '\u{2212}']) {
        return Err("must be more than 0".into());
    }
    let Some((whole, fraction)) = money::split_number(&typed) else {
        return Err(format!("\"{typed}\" is not a number"));
    };
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err("may have at most 2 decimal places, like 1.25".into());
    }
    let hundredths = money::to_minor(&whole, fraction, 2)
        .filter(|q| *q <= QUANTITY_MAX)
        .ok_or_else(|| "must be at most 1,000,000".to_owned())?;
    if hundredths == 0 {
        return Err("must be more than 0".into());
    }
    Ok(hundredths)
}

/// A quantity in hundredths shown the way it would be typed: 150 is "1.5", 200 is "2".
pub fn format_quantity(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let magnitude = hundredths.unsigned_abs();
    let (whole, fraction) = (magnitude / 100, magnitude % 100);
    match fraction {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// A whole percentage from 0 to 100; blank is 0.
fn parse_percent(input: Option<&str>) -> Result<u8, String> {
    match text::optional(input) {
        None => Ok(0),
        Some(typed) => parse_probability(Some(&typed)),
    }
}

/// A quote's number as people quote it: "Q-0042".
pub fn display_number(number: i64) -> String {
    format!("Q-{number:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: &str, price: &str, discount: &str, tax: &str) -> LineInput {
        LineInput {
            description: "Managed endpoint".into(),
            quantity: Some(quantity.into()),
            unit_price: Some(price.into()),
            discount_percent: Some(discount.into()),
            tax_percent: Some(tax.into()),
            ..Default::default()
        }
    }

    fn quote(lines: Vec<LineInput>) -> QuoteInput {
        QuoteInput {
            client_id: Some(7),
            lines,
            ..Default::default()
        }
    }

    #[test]
    fn a_line_rounds_each_figure_on_its_own() {
        // 3 × 19.99 = 59.97; 10 % off is 5.997 → 6.00; 20 % tax on 53.97 is 10.794 → 10.79.
        assert_eq!(
            line_amounts(300, 1_999, 10, 20),
            LineAmounts {
                net: 5_997,
                discount: 600,
                tax: 1_079,
                total: 6_476
            }
        );
        // 1.5 × 0.99 = 1.485 → 1.49 (half away from zero).
        assert_eq!(line_amounts(150, 99, 0, 0).net, 149);
        // 0.5 × 0.01 = 0.005 → 0.01.
        assert_eq!(line_amounts(50, 1, 0, 0).net, 1);
        assert_eq!(line_amounts(100, 10_000, 100, 20).total, 0);
        assert_eq!(line_amounts(100, 10_000, 0, 100).total, 20_000);
    }

    #[test]
    fn totals_skip_optional_lines_and_sum_recurring_ones_apart() {
        let input = quote(vec![
            line("3", "19.99", "10", "20"),
            LineInput {
                recurring: true,
                ..line("12", "45.50", "0", "20")
            },
            LineInput {
                optional: true,
                ..line("1", "999", "0", "20")
            },
            line("1.5", "0.99", "", ""),
        ]);
        let fields = QuoteFields::parse(&input, "USD").expect("valid");
        // Lines: 5997/600/1079/6476; 54600/0/10920/65520; optional; 149/0/0/149.
        assert_eq!(
            fields.totals(),
            QuoteTotals {
                subtotal: 60_746,
                discount: 600,
                tax: 11_999,
                total: 72_145,
                recurring_total: 65_520,
            }
        );
    }

    #[test]
    fn a_full_quote_is_tidied() {
        let input = QuoteInput {
            client_id: Some(3),
            deal_id: Some(9),
            status: Some(" Sent ".into()),
            valid_until: Some("2027-03-31".into()),
            currency: Some(" eur ".into()),
            notes: Some("Prices\r\nexclude travel".into()),
            lines: vec![LineInput {
                description: " Onboarding ".into(),
                quantity: None,
                unit_price: Some("1,250".into()),
                discount_percent: Some("5 %".into()),
                tax_percent: None,
                optional: false,
                recurring: false,
            }],
        };
        let fields = QuoteFields::parse(&input, "USD").expect("valid");
        assert_eq!(
            fields,
            QuoteFields {
                client_id: 3,
                deal_id: Some(9),
                status: QuoteStatus::Sent,
                valid_until: NaiveDate::from_ymd_opt(2027, 3, 31),
                currency: "EUR".into(),
                notes: Some("Prices\nexclude travel".into()),
                lines: vec![QuoteLine {
                    description: "Onboarding".into(),
                    quantity: 100,
                    unit_price: 125_000,
                    discount_percent: 5,
                    tax_percent: 0,
                    optional: false,
                    recurring: false,
                }],
            }
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = QuoteInput {
            client_id: None,
            status: Some("won".into()),
            valid_until: Some("31/03/2027".into()),
            lines: vec![
                LineInput {
                    description: " ".into(),
                    quantity: Some("1.255".into()),
                    unit_price: None,
                    discount_percent: Some("101".into()),
                    tax_percent: Some("-5".into()),
                    ..Default::default()
                },
                line("0", "10.001", "0", "0"),
            ],
            ..Default::default()
        };
        let err = QuoteFields::parse(&input, "USD").expect_err("invalid");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "client",
                "status",
                "valid_until",
                "lines[0].description",
                "lines[0].quantity",
                "lines[0].unit_price",
                "lines[0].discount_percent",
                "lines[0].tax_percent",
                "lines[1].quantity",
                "lines[1].unit_price",
            ]
        );
        assert_eq!(
            err.message_for("status"),
            Some("\"won\" is not a quote status; use draft, sent, accepted, declined or expired")
        );
        assert_eq!(
            err.message_for("lines[0].quantity"),
            Some("may have at most 2 decimal places, like 1.25")
        );
        assert_eq!(err.message_for("lines[0].unit_price"), Some("is required"));
        assert_eq!(
            err.message_for("lines[0].discount_percent"),
            Some("must be a whole number from 0 to 100")
        );
        assert_eq!(
            err.message_for("lines[1].quantity"),
            Some("must be more than 0")
        );
        assert_eq!(
            err.message_for("lines[1].unit_price"),
            Some("has more decimal places than USD allows (2)")
        );
    }

    #[test]
    fn a_quote_needs_lines_within_the_limits() {
        let err = QuoteFields::parse(&quote(Vec::new()), "USD").expect_err("invalid");
        assert_eq!(err.message_for("lines"), Some("add at least one line"));

        let huge = quote(vec![line("1,000,000", "1,000,000,000,000", "0", "0")]);
        let err = QuoteFields::parse(&huge, "USD").expect_err("invalid");
        assert_eq!(
            err.message_for("lines[0]"),
            Some("comes to more than 1,000,000,000,000.00; split it into smaller lines")
        );
        assert_eq!(
            parse_quantity(Some("1,000,001")),
            Err("must be at most 1,000,000".into())
        );
    }

    #[test]
    fn prices_follow_the_quote_currency() {
        let input = QuoteInput {
            currency: Some("JPY".into()),
            ..quote(vec![line("2", "1,500", "", "")])
        };
        let fields = QuoteFields::parse(&input, "USD").expect("valid");
        assert_eq!(fields.lines[0].unit_price, 1_500);
        assert_eq!(fields.totals().total, 3_000);

        let input = QuoteInput {
            currency: Some("XYZ".into()),
            ..quote(vec![line("2", "15.5", "", "")])
        };
        let err = QuoteFields::parse(&input, "USD").expect_err("invalid");
        assert_eq!(
            err.0,
            [crate::FieldError::new(
                "currency",
                "\"XYZ\" is not an ISO 4217 currency code"
            )]
        );
    }

    #[test]
    fn quantities_read_and_show_as_typed() {
        assert_eq!(parse_quantity(None), Ok(100));
        assert_eq!(parse_quantity(Some(" 1.5 ")), Ok(150));
        assert_eq!(parse_quantity(Some("2.50")), Ok(250));
        assert_eq!(parse_quantity(Some(".25")), Ok(25));
        assert_eq!(parse_quantity(Some("1,000")), Ok(100_000));
        assert_eq!(
            parse_quantity(Some("one")),
            Err("\"one\" is not a number".into())
        );
        assert_eq!(format_quantity(150), "1.5");
        assert_eq!(format_quantity(200), "2");
        assert_eq!(format_quantity(125), "1.25");
        assert_eq!(format_quantity(5), "0.05");
        assert_eq!(display_number(42), "Q-0042");
        assert_eq!(display_number(12_345), "Q-12345");
    }

    #[test]
    fn statuses_read_in_any_case() {
        assert_eq!(QuoteStatus::parse(" Accepted"), Ok(QuoteStatus::Accepted));
        let words: Vec<&str> = QuoteStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(words, ["draft", "sent", "accepted", "declined", "expired"]);
        assert_eq!(QuoteStatus::Declined.label(), "Declined");
    }

    #[test]
    fn a_deal_starts_a_draft_with_its_value_and_recurring_value() {
        let deal = DealTerms {
            deal_id: 4,
            title: "Managed services",
            client_id: Some(2),
            value: 1_200_000,
            recurring: Some((99_900, RecurringPeriod::Monthly)),
            currency: "EUR",
        };
        let draft = draft_from_deal(&deal).expect("a client");
        assert_eq!((draft.client_id, draft.deal_id), (2, Some(4)));
        assert_eq!(
            (draft.status, draft.currency.as_str()),
            (QuoteStatus::Draft, "EUR")
        );
        let lines: Vec<(&str, i64, i64, bool)> = draft
            .lines
            .iter()
            .map(|l| {
                (
                    l.description.as_str(),
                    l.quantity,
                    l.unit_price,
                    l.recurring,
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("Managed services", 100, 1_200_000, false),
                ("Managed services (monthly)", 100, 99_900, true)
            ]
        );
        assert_eq!(draft.totals().total, 1_299_900);
        assert_eq!(draft.totals().recurring_total, 99_900);

        let no_client = DealTerms {
            client_id: None,
            ..deal
        };
        let err = draft_from_deal(&no_client).expect_err("no client");
        assert_eq!(err.0[0].field, "client");
    }
}
