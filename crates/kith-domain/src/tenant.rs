//! Tenant settings: base currency, default country and time zone.

use crate::validation::{Checker, Invalid};

/// Validated settings for creating a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub name: String,
    pub currency: String,
    pub default_country: String,
    pub time_zone: String,
}

impl NewTenant {
    pub fn parse(
        name: &str,
        currency: &str,
        country: &str,
        time_zone: &str,
    ) -> Result<Self, Invalid> {
        let mut check = Checker::default();
        let name = check.check("name", crate::text::required_line(name, 200));
        let currency = check.check("currency", parse_currency(currency));
        let country = check.check("default_country", parse_country(country));
        let time_zone = check.check("time_zone", parse_time_zone(time_zone));
        check.finish()?;

        Ok(Self {
            name: name.unwrap_or_default(),
            currency: currency.unwrap_or_default(),
            default_country: country.unwrap_or_default(),
            time_zone: time_zone.unwrap_or_default(),
        })
    }
}

/// An ISO 4217 alphabetic code such as `USD`, of a currency that has minor units.
pub fn parse_currency(code: &str) -> Result<String, String> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "\"{code}\" is not a three-letter ISO 4217 currency code"
        ));
    }

    // A well-formed but unknown code would make every amount in it unreadable later.
    crate::money::minor_digits(&code)?;
    Ok(code)
}

/// An ISO 3166 alpha-2 country code that the phone library knows, such as `GB`.
pub fn parse_country(code: &str) -> Result<String, String> {
    let code = code.trim().to_ascii_uppercase();
    if crate::phone::is_known_country(&code) {
        Ok(code)
    } else {
        Err(format!("\"{code}\" is not a two-letter country code"))
    }
}

/// An IANA time zone name such as `Europe/Rome`.
pub fn parse_time_zone(name: &str) -> Result<String, String> {
    let name = name.trim();
    // "europe/london" is meant as Europe/London: IANA names differ in more than case nowhere.
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .map(|tz| tz.name().to_owned())
        .ok_or_else(|| format!("\"{name}\" is not an IANA time zone name such as Europe/London"))
}

/// Every IANA zone name, for a picker.
pub fn time_zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_read_without_regard_to_case() {
        assert_eq!(
            parse_time_zone(" america/los_angeles ").as_deref(),
            Ok("America/Los_Angeles")
        );
        assert!(parse_time_zone("Mars/Base").is_err());
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let err = NewTenant::parse("", "dollars", "XX", "Mars/Base").expect_err("all invalid");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "currency", "default_country", "time_zone"]);
    }

    #[test]
    fn currencies_must_be_real_iso_codes() {
        assert_eq!(parse_currency(" eur "), Ok("EUR".into()));
        assert_eq!(
            parse_currency("dollars"),
            Err("\"DOLLARS\" is not a three-letter ISO 4217 currency code".into())
        );
        assert_eq!(
            parse_currency("abc"),
            Err("\"ABC\" is not an ISO 4217 currency code".into())
        );
    }

    #[test]
    fn good_settings_are_normalised() {
        let t = NewTenant::parse(" Acme MSP ", "eur", "gb", "Europe/London").expect("valid");
        assert_eq!(
            (
                t.name.as_str(),
                t.currency.as_str(),
                t.default_country.as_str()
            ),
            ("Acme MSP", "EUR", "GB")
        );
    }
}
