//! Money: a whole number of minor units (cents, pence, fils) plus an ISO 4217 currency code.
//!
//! Never floats (SPEC §12): amounts are parsed from text straight into integers, weighted values
//! are rounded in integer arithmetic, and totals are kept per currency.

use iso_currency::Currency;
use serde::Serialize;
use std::collections::BTreeMap;

/// The largest amount Kith accepts, in minor units (10^14: a trillion dollars). Adding up tens of
/// thousands of such amounts still fits in an `i64`.
pub const AMOUNT_MAX: i64 = 100_000_000_000_000;

/// What people type between groups of thousands: a comma, a space, a no-break space, or the
/// narrow no-break space of French number formatting.
const GROUP_SEPARATORS: [char; 4] = [',', ' ', '\u{a0}', '\u{202f}'];

/// The number of minor-unit digits of an ISO 4217 code: 2 for USD, 0 for JPY, 3 for BHD.
pub fn minor_digits(currency: &str) -> Result<u32, String> {
    let code = currency.trim();
    let Some(found) = Currency::from_code(&code.to_ascii_uppercase()) else {
        return Err(format!("\"{code}\" is not an ISO 4217 currency code"));
    };

    // Only codes such as XAU (gold) and XXX (no currency) lack one; no deal is priced in them.
    found
        .exponent()
        .map(u32::from)
        .ok_or_else(|| format!("{code} has no minor unit, so amounts cannot be kept in it"))
}

/// Parses what a user typed for an amount of `currency` into minor units: "1,234.50",
/// "1 234.50" and "1234.5" are all 123450 in USD.
///
/// Thousands may be grouped with commas or spaces; the decimal separator is a dot. Blank is an
/// error: callers that treat a blank field as absent check for that first.
pub fn parse_amount(input: &str, currency: &str) -> Result<i64, String> {
    let digits = minor_digits(currency)?;
    let typed = input.trim();
    if typed.is_empty() {
        return Err("must be a number".into());
    }

    let (negative, unsigned) = match typed.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, typed),
    };
    let Some((whole, fraction)) = split_number(unsigned) else {
        return Err(format!("\"{typed}\" is not a number"));
    };
    if negative {
        return Err("must not be negative".into());
    }

    // Trailing zeros change nothing, so "1500.00" from a spreadsheet is a fine JPY amount.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > digits as usize {
        let code = currency.trim().to_ascii_uppercase();
        return Err(format!(
            "has more decimal places than {code} allows ({digits})"
        ));
    }

    to_minor(&whole, fraction, digits)
        .filter(|minor| *minor <= AMOUNT_MAX)
        .ok_or_else(|| format!("must be at most {}", format_amount(AMOUNT_MAX, currency)))
}

/// Splits "1,234.50" into the whole part without separators ("1234") and the fraction ("50").
pub(crate) fn split_number(text: &str) -> Option<(String, &str)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((ungroup(whole)?, fraction))
}

/// "1,234,567" becomes "1234567". Groups after the first must have three digits, so that a
/// decimal comma ("12,50") is refused instead of being read as 1250.
fn ungroup(whole: &str) -> Option<String> {
    let groups: Vec<&str> = whole.split(GROUP_SEPARATORS).collect();
    let all_digits = groups
        .iter()
        .all(|group| group.chars().all(|c| c.is_ascii_digit()));
    let grouped_by_three = groups.len() == 1
        || ((1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3));
    (all_digits && grouped_by_three).then(|| groups.concat())
}

/// Joins checked digits into minor units; `None` when the number does not fit in an `i64`.
pub(crate) fn to_minor(whole: &str, fraction: &str, digits: u32) -> Option<i64> {
    let padding = std::iter::repeat_n('0', digits as usize - fraction.len());
    let mut minor: i64 = 0;
    for c in whole.chars().chain(fraction.chars()).chain(padding) {
        let digit = i64::from(c.to_digit(10)?);
        minor = minor.checked_mul(10)?.checked_add(digit)?;
    }
    Some(minor)
}

/// Shows an amount the same way on every screen and export: "1,234.50" for 123450 USD, "1,500"
/// for 1500 JPY, "-0.05" for -5 USD.
pub fn format_amount(minor: i64, currency: &str) -> String {
    // Stored currencies were checked on the way in; should one be unknown, two decimals are a
    // better page than an error.
    let digits = minor_digits(currency).unwrap_or(2);
    let scale = 10_u64.pow(digits);
    let magnitude = minor.unsigned_abs();

    let sign = if minor < 0 { "-" } else { "" };
    let whole = group_thousands(magnitude / scale);
    if digits == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = magnitude % scale;
    format!("{sign}{whole}.{fraction:0width$}", width = digits as usize)
}

/// An amount with its currency code in front: "USD 1,234.50".
pub fn format_money(minor: i64, currency: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    format!("{code} {}", format_amount(minor, &code))
}

fn group_thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// The weighted value of one deal: value × probability / 100 in minor units, rounded half away
/// from zero. Totals add up these per-deal figures, so the board, the forecast, reports and the
/// API all show the same number (SPEC §5.2).
///
/// A probability above 100 is taken as 100.
pub fn weighted(value_minor: i64, probability: u8) -> i64 {
    let product = i128::from(value_minor) * i128::from(probability.min(100));
    divide_rounded(product, 100)
}

/// `numerator / denominator` rounded half away from zero; `denominator` must be positive. A
/// result beyond the range of `i64` is clamped to it.
pub(crate) fn divide_rounded(numerator: i128, denominator: i128) -> i64 {
    let half = denominator / 2;
    let rounded = if numerator < 0 {
        (numerator - half) / denominator
    } else {
        (numerator + half) / denominator
    };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

/// The count, total value and weighted total of some deals in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub count: i64,
    pub value: i64,
    pub weighted: i64,
}

/// Totals kept apart per currency: USD and EUR are never added together (SPEC §5.2), so a board
/// column shows one subtotal per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CurrencyTotals {
    by_currency: BTreeMap<String, Totals>,
}

impl CurrencyTotals {
    /// Counts one deal of `value` minor units whose rounded weighted value is `weighted`.
    pub fn add(&mut self, currency: &str, value: i64, weighted: i64) {
        self.add_many(currency, 1, value, weighted);
    }

    /// Counts `count` deals whose values and rounded weighted values sum to `value` and
    /// `weighted` (a database's per-currency sums).
    pub fn add_many(&mut self, currency: &str, count: i64, value: i64, weighted: i64) {
        let code = currency.trim().to_ascii_uppercase();
        let totals = self.by_currency.entry(code).or_default();
        totals.count += count;
        totals.value = totals.value.saturating_add(value);
        totals.weighted = totals.weighted.saturating_add(weighted);
    }

    /// The totals of one currency, if any deal was in it.
    pub fn get(&self, currency: &str) -> Option<&Totals> {
        self.by_currency.get(&currency.trim().to_ascii_uppercase())
    }

    /// Each currency with its totals, in alphabetical order of the code.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Totals)> {
        self.by_currency
            .iter()
            .map(|(code, totals)| (code.as_str(), totals))
    }

    pub fn is_empty(&self) -> bool {
        self.by_currency.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_digits_come_from_iso_4217() {
        let digits: Vec<u32> = ["USD", "EUR", "JPY", "BHD", "KWD", "gbp"]
            .iter()
            .map(|code| minor_digits(code).expect("known"))
            .collect();
        assert_eq!(digits, [2, 2, 0, 3, 3, 2]);
        assert_eq!(
            minor_digits("XYZ"),
            Err("\"XYZ\" is not an ISO 4217 currency code".into())
        );
        assert_eq!(
            minor_digits("XAU"),
            Err("XAU has no minor unit, so amounts cannot be kept in it".into())
        );
    }

    #[test]
    fn amounts_parse_as_people_type_them() {
        let usd = |text| parse_amount(text, "USD");
        assert_eq!(usd("1234.5"), Ok(123_450));
        assert_eq!(usd("1,234.50"), Ok(123_450));
        assert_eq!(usd("1 234.50"), Ok(123_450));
        assert_eq!(usd("1\u{a0}234.50"), Ok(123_450));
        assert_eq!(usd("1000"), Ok(100_000));
        assert_eq!(usd("0"), Ok(0));
        assert_eq!(usd("  12.3  "), Ok(1_230));
        assert_eq!(usd(".5"), Ok(50));
        assert_eq!(usd("1,234,567.89"), Ok(123_456_789));
    }

    #[test]
    fn currencies_without_cents_refuse_decimals() {
        assert_eq!(parse_amount("1,500", "JPY"), Ok(1_500));
        assert_eq!(parse_amount("1500.00", "JPY"), Ok(1_500));
        assert_eq!(
            parse_amount("15.5", "JPY"),
            Err("has more decimal places than JPY allows (0)".into())
        );
        assert_eq!(parse_amount("1.234", "BHD"), Ok(1_234));
    }

    #[test]
    fn bad_amounts_are_explained() {
        let usd = |text| parse_amount(text, "USD");
        assert_eq!(usd("  "), Err("must be a number".into()));
        assert_eq!(usd("-5"), Err("must not be negative".into()));
        assert_eq!(
            usd("1.234"),
            Err("has more decimal places than USD allows (2)".into())
        );
        assert_eq!(usd("ten"), Err("\"ten\" is not a number".into()));
        assert_eq!(usd("12,50"), Err("\"12,50\" is not a number".into()));
        assert_eq!(usd("1.2.3"), Err("\"1.2.3\" is not a number".into()));
        assert_eq!(usd("1e5"), Err("\"1e5\" is not a number".into()));
        assert_eq!(
            parse_amount("5", "XYZ"),
            Err("\"XYZ\" is not an ISO 4217 currency code".into())
        );
    }

    #[test]
    fn amounts_have_a_ceiling() {
        assert_eq!(parse_amount("1,000,000,000,000", "USD"), Ok(AMOUNT_MAX));
        assert_eq!(
            parse_amount("1000000000000.01", "USD"),
            Err("must be at most 1,000,000,000,000.00".into())
        );
        assert_eq!(
            parse_amount("99999999999999999999999999", "USD"),
            Err("must be at most 1,000,000,000,000.00".into())
        );
    }

    #[test]
    fn amounts_format_with_grouped_thousands() {
        assert_eq!(format_amount(123_450, "USD"), "1,234.50");
        assert_eq!(format_amount(1_500, "JPY"), "1,500");
        assert_eq!(format_amount(-5, "USD"), "-0.05");
        assert_eq!(format_amount(0, "USD"), "0.00");
        assert_eq!(format_amount(1_234_567, "BHD"), "1,234.567");
        assert_eq!(format_amount(100_000, "EUR"), "1,000.00");
        assert_eq!(format_amount(i64::MIN, "USD"), "-92,233,720,368,547,758.08");
        assert_eq!(format_money(123_450, "usd"), "USD 1,234.50");
    }

    #[test]
    fn weighted_value_rounds_each_deal_half_away_from_zero() {
        // C10: 308.625 rounds to 308.63 per deal, so two such deals total 617.26.
        assert_eq!(weighted(123_450, 25), 30_863);
        assert_eq!(weighted(123_450, 25) * 2, 61_726);
        assert_eq!(weighted(10_000, 99), 9_900);
        assert_eq!(weighted(20_000, 0), 0);
        assert_eq!(weighted(-150, 1), -2);
        assert_eq!(weighted(1, 50), 1);
        assert_eq!(weighted(i64::MAX, 100), i64::MAX);
        assert_eq!(weighted(1_000, 200), 1_000);
    }

    #[test]
    fn totals_never_mix_currencies() {
        // C11: USD 50.00 and EUR 50.00 in a 50 % stage.
        let mut totals = CurrencyTotals::default();
        totals.add("USD", 5_000, weighted(5_000, 50));
        totals.add("eur", 5_000, weighted(5_000, 50));
        let expected = Totals {
            count: 1,
            value: 5_000,
            weighted: 2_500,
        };
        let rows: Vec<(&str, Totals)> = totals.iter().map(|(c, t)| (c, *t)).collect();
        assert_eq!(rows, [("EUR", expected), ("USD", expected)]);
        assert_eq!(totals.get("usd"), Some(&expected));
    }

    #[test]
    fn totals_sum_the_rounded_deals() {
        // C10: A 100.00 at 99 % and B 200.00 at 0 % weigh 99.00, never 148.50.
        let mut totals = CurrencyTotals::default();
        totals.add("USD", 10_000, weighted(10_000, 99));
        totals.add("USD", 20_000, weighted(20_000, 0));
        assert_eq!(
            totals.get("USD"),
            Some(&Totals {
                count: 2,
                value: 30_000,
                weighted: 9_900
            })
        );
        assert!(CurrencyTotals::default().is_empty());
    }
}
