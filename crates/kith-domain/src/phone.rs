//! Phone numbers, kept as the user typed them plus their E.164 form when it can be worked out.

use phonenumber::Mode;
use phonenumber::country::Id as Country;

/// A phone number as entered, with its E.164 form when the number is valid for its own country
/// code or for the tenant's default country.
///
/// A number that cannot be parsed is still kept (`e164` is `None`): a strange format must never
/// cost the user the digits they typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub raw: String,
    pub e164: Option<String>,
}

impl Phone {
    /// Parses `raw` with `default_country` (ISO 3166 alpha-2, e.g. `GB`) for national numbers.
    pub fn parse(raw: &str, default_country: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if raw.chars().count() > 40 {
            return Err("is longer than 40 characters".into());
        }
        if raw.chars().any(char::is_control) {
            return Err("contains a control character; remove it".into());
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(format!("\"{raw}\" has no digits"));
        }
        Ok(Self {
            raw: raw.to_owned(),
            e164: to_e164(raw, default_country),
        })
    }

    /// The digit strings search matches a phone query against: the digits as typed, and those
    /// of the E.164 form.
    pub fn search_digits(&self) -> Vec<String> {
        let mut digits = vec![crate::search::phone_digits(&self.raw)];
        if let Some(e164) = &self.e164 {
            digits.push(crate::search::phone_digits(e164));
        }
        digits
    }

    /// Whether the number was recognised as a valid number.
    pub fn is_recognised(&self) -> bool {
        self.e164.is_some()
    }
}

/// The E.164 form of `raw`, or `None` when it is not a valid number.
pub fn to_e164(raw: &str, default_country: &str) -> Option<String> {
    let country: Option<Country> = default_country.trim().to_ascii_uppercase().parse().ok();
    let number = phonenumber::parse(country, raw).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    Some(number.format().mode(Mode::E164).to_string())
}

/// Whether `code` is a country the phone library knows, such as `GB` or `US`.
pub fn is_known_country(code: &str) -> bool {
    code.len() == 2 && code.parse::<Country>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_use_the_default_country_and_keep_the_leading_zero() {
        let phone = Phone::parse("020 7946 0018", "GB").expect("parses");
        assert_eq!(phone.raw, "020 7946 0018");
        assert_eq!(phone.e164.as_deref(), Some("+442079460018"));
        assert_eq!(
            to_e164("02079460123", "GB").as_deref(),
            Some("+442079460123")
        );
    }

    #[test]
    fn international_numbers_ignore_the_default_country() {
        assert_eq!(
            to_e164("+1 (415) 293-3313", "GB").as_deref(),
            Some("+14152933313")
        );
    }

    #[test]
    fn unrecognised_numbers_are_kept_raw() {
        let phone = Phone::parse("010-2030", "GB").expect("kept");
        assert_eq!(phone.raw, "010-2030");
        assert_eq!(phone.e164, None);
    }

    #[test]
    fn extensions_are_left_out_of_e164() {
        assert_eq!(
            to_e164("(415) 293-3313 x66286", "US").as_deref(),
            Some("+14152933313")
        );
    }
}
