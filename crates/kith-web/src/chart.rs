//! Server-rendered SVG charts: no script, nothing to load, and readable by anyone the page is.
//!
//! The markup carries only presentation attributes (`fill`, `font-size`), never a `style`
//! attribute, which the Content Security Policy would block. Every piece of text is escaped.

use kith_domain::money::{format_amount, format_money, minor_digits};
use std::fmt::Write;

/// Height of the plotting area, in pixels.
const PLOT_HEIGHT: i64 = 220;
/// Room above the plot for the legend.
const TOP: i64 = 40;
/// Room below the plot for the month labels.
const BOTTOM: i64 = 30;
const RIGHT: i64 = 16;
/// Width of one month (two bars and the space around them): as wide as lets the chart fill
/// [`TARGET_WIDTH`], within these bounds. Many months scroll sideways rather than shrink.
const GROUP_WIDTH_MIN: i64 = 72;
const GROUP_WIDTH_MAX: i64 = 140;
/// The width the chart spreads its months over when there are few: a desktop page's panel.
const TARGET_WIDTH: i64 = 960;
const BAR_WIDTH: i64 = 24;
const BAR_GAP: i64 = 4;
/// A rough width of one character of 12-pixel text, to make room for the axis labels.
const CHAR_WIDTH: i64 = 7;
/// Narrower than this, the legend would not fit.
const MIN_WIDTH: i64 = 360;

const VALUE_FILL: &str = "#b5cdf6";
const WEIGHTED_FILL: &str = "#2f6fde";
const GRID_STROKE: &str = "#e4e7ec";
const AXIS_STROKE: &str = "#98a2b3";
const TEXT_FILL: &str = "#667085";

/// One group of the chart: a month's total value and weighted value, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarPair {
    /// Shown under the bars: "Mar 2027".
    pub label: String,
    pub value: i64,
    pub weighted: i64,
}

/// A bar chart of value and weighted value per group, in one currency: amounts of different
/// currencies are never drawn on one axis.
pub fn value_and_weighted(description: &str, currency: &str, groups: &[BarPair]) -> String {
    let scale = 10_i64.pow(minor_digits(currency).unwrap_or(2));
    let highest = groups
        .iter()
        .map(|g| g.value.max(g.weighted))
        .max()
        .unwrap_or(0);
    let ticks = ticks(highest, scale);
    let top_tick = ticks.last().copied().unwrap_or(scale).max(1);
    let labels = tick_labels(&ticks, currency, scale);

    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as i64;
    let left = (longest * CHAR_WIDTH + 16).max(48);
    let count = (groups.len() as i64).max(1);
    let group_width =
        ((TARGET_WIDTH - left - RIGHT) / count).clamp(GROUP_WIDTH_MIN, GROUP_WIDTH_MAX);
    let width = (left + count * group_width + RIGHT).max(MIN_WIDTH);
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let baseline = TOP + PLOT_HEIGHT;
    let y_of = |amount: i64| baseline - bar_height(amount, top_tick);

    let mut svg = String::new();
    let description = escape(description);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{description}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="chart">"#
    );
    let _ = write!(svg, "<title>{description}</title>");
    let _ = write!(svg, r#"<g font-size="12" fill="{TEXT_FILL}">"#);

    // Legend, above the plot.
    let code = escape(currency);
    let _ = write!(
        svg,
        r#"<rect x="{left}" y="12" width="12" height="12" fill="{VALUE_FILL}"/><text x="{}" y="22">Value ({code})</text>"#,
        left + 18
    );
    let _ = write!(
        svg,
        r#"<rect x="{}" y="12" width="12" height="12" fill="{WEIGHTED_FILL}"/><text x="{}" y="22">Weighted ({code})</text>"#,
        left + 130,
        left + 148
    );

    // The y axis: a grid line and a label per tick.
    for (tick, label) in ticks.iter().zip(&labels) {
        let y = y_of(*tick);
        let _ = write!(
            svg,
            r#"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="{GRID_STROKE}"/><text x="{}" y="{y}" dy="0.32em" text-anchor="end">{}</text>"#,
            width - RIGHT,
            left - 8,
            escape(label)
        );
    }
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{baseline}" x2="{}" y2="{baseline}" stroke="{AXIS_STROKE}"/>"#,
        width - RIGHT
    );

    // The bars, two per group, each with its figure as a tooltip.
    let inset = (group_width - 2 * BAR_WIDTH - BAR_GAP) / 2;
    for (n, group) in groups.iter().enumerate() {
        let x = left + n as i64 * group_width + inset;
        let label = escape(&group.label);
        for (offset, amount, fill, name) in [
            (0, group.value, VALUE_FILL, "value"),
            (
                BAR_WIDTH + BAR_GAP,
                group.weighted,
                WEIGHTED_FILL,
                "weighted",
            ),
        ] {
            let y = y_of(amount);
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{y}" width="{BAR_WIDTH}" height="{}" fill="{fill}"><title>{label}, {name}: {}</title></rect>"#,
                x + offset,
                baseline - y,
                escape(&format_money(amount, currency))
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{label}</text>"#,
            x + BAR_WIDTH + BAR_GAP / 2,
            baseline + 20
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// Pixels of a bar of `amount` on an axis ending at `top_tick`. A bar above zero is at least
/// one pixel high, so that it is seen; below zero (no deal is worth less than nothing) it is
/// flat.
fn bar_height(amount: i64, top_tick: i64) -> i64 {
    if amount <= 0 {
        return 0;
    }
    let pixels = i128::from(amount) * i128::from(PLOT_HEIGHT) / i128::from(top_tick);
    (pixels as i64).clamp(1, PLOT_HEIGHT)
}

/// The y axis' ticks from 0: up to 4 equal steps of a round amount (1, 2, 2.5 or 5 times a
/// power of ten, in minor units) reaching at least `highest`. Without any amount, 0 to 4 whole
/// units.
fn ticks(highest: i64, scale: i64) -> Vec<i64> {
    const STEPS: i128 = 4;
    if highest <= 0 {
        return (0..=4).map(|n| n * scale).collect();
    }
    let highest = i128::from(highest);
    let mut power: i128 = 1;
    let step = loop {
        // 2.5 times a power of ten is a whole number of minor units only from 10 up.
        let two_and_a_half = (power >= 10).then_some(power / 10 * 25);
        let candidates = [
            Some(power),
            Some(2 * power),
            two_and_a_half,
            Some(5 * power),
        ];
        let fitting = candidates
            .into_iter()
            .flatten()
            .find(|step| (highest + step - 1) / step <= STEPS);
        if let Some(step) = fitting {
            break step;
        }
        power *= 10;
    };
    let count = (highest + step - 1) / step;
    (0..=count)
        .map(|n| i64::try_from(n * step).unwrap_or(i64::MAX))
        .collect()
}

/// The ticks' labels as the app writes amounts, without a fraction when every tick is a whole
/// number of units ("250,000" rather than "250,000.00").
fn tick_labels(ticks: &[i64], currency: &str, scale: i64) -> Vec<String> {
    let whole = ticks.iter().all(|t| t % scale == 0);
    ticks
        .iter()
        .map(|t| {
            let label = format_amount(*t, currency);
            match label.split_once('.') {
                Some((units, _)) if whole => units.to_owned(),
                _ => label,
            }
        })
        .collect()
}

/// Escapes text for SVG (XML) content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_reach_the_highest_bar() {
        // USD 1,234.00: steps of 500.00 up to 1,500.00.
        assert_eq!(ticks(123_400, 100), [0, 50_000, 100_000, 150_000]);
        assert_eq!(ticks(100_000, 100), [0, 25_000, 50_000, 75_000, 100_000]);
        assert_eq!(ticks(300, 100), [0, 100, 200, 300]);
        assert_eq!(ticks(7, 100), [0, 2, 4, 6, 8]);
        assert_eq!(ticks(1, 100), [0, 1]);
        assert_eq!(ticks(0, 100), [0, 100, 200, 300, 400]);
        assert_eq!(ticks(0, 1), [0, 1, 2, 3, 4]);
        let huge = ticks(i64::MAX, 100);
        assert!(huge.len() <= 5 && *huge.last().expect("a tick") == i64::MAX);
        for highest in [1, 9, 10, 11, 99, 101, 999, 1_001, 12_345, 987_654_321] {
            let found = ticks(highest, 100);
            assert!((2..=5).contains(&found.len()), "{highest}: {found:?}");
            assert!(*found.last().expect("a tick") >= highest);
        }
    }

    #[test]
    fn tick_labels_drop_an_all_zero_fraction() {
        assert_eq!(
            tick_labels(&[0, 50_000, 100_000], "USD", 100),
            ["0", "500", "1,000"]
        );
        assert_eq!(
            tick_labels(&[0, 2, 4], "USD", 100),
            ["0.00", "0.02", "0.04"]
        );
        assert_eq!(tick_labels(&[0, 1_500], "JPY", 1), ["0", "1,500"]);
    }

    #[test]
    fn the_chart_is_an_accessible_image_with_escaped_text() {
        let svg = value_and_weighted(
            "Open <deals> & \"more\"",
            "USD",
            &[
                BarPair {
                    label: "Mar 2027".into(),
                    value: 123_400,
                    weighted: 61_700,
                },
                BarPair {
                    label: "Apr <2027>".into(),
                    value: 0,
                    weighted: 0,
                },
            ],
        );
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-label="Open &lt;deals&gt; &amp; &quot;more&quot;""#));
        assert!(svg.contains("<title>Open &lt;deals&gt; &amp; &quot;more&quot;</title>"));
        assert!(svg.contains("<title>Mar 2027, value: USD 1,234.00</title>"));
        assert!(svg.contains("<title>Mar 2027, weighted: USD 617.00</title>"));
        assert!(svg.contains(">Apr &lt;2027&gt;</text>"));
        assert!(svg.contains(">1,500</text>"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
        assert!(!svg.contains("<deals>"));
    }
}
