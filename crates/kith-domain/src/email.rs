//! Email addresses.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A syntactically plausible email address, trimmed, with its case kept as typed.
///
/// Two addresses are the same contact when their [`Email::normalized`] forms are equal: trimmed
/// and lower-cased. `+tags` are kept, since `ana+crm@x` and `ana@x` may be different mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Longest address RFC 5321 allows on the wire.
const MAX_LENGTH: usize = 254;

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        // One address, one spelling: composed (NFC) Unicode, so `josé` typed two ways matches.
        let composed: String = input.trim().nfc().collect();
        let value = composed.as_str();
        if value.is_empty() {
            return Err("is required".into());
        }
        if value.len() > MAX_LENGTH {
            return Err(format!(
                "is {} characters long; the limit is {MAX_LENGTH}",
                value.len()
            ));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(format!("\"{value}\" is not an email address: it has no @"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty()
            || !domain_ok
            || value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        {
            return Err(format!("\"{value}\" is not a valid email address"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to compare addresses: lower-cased.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Zero-width and direction-control characters: invisible, so never part of a real address.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_case_but_compares_without_it() {
        let email = Email::parse("  Maria.Lopez@Example.com ").expect("valid");
        assert_eq!(email.as_str(), "Maria.Lopez@Example.com");
        assert_eq!(email.normalized(), "maria.lopez@example.com");
    }

    #[test]
    fn plus_tags_are_kept() {
        assert_eq!(
            Email::parse("ana+crm@example.com")
                .expect("valid")
                .normalized(),
            "ana+crm@example.com"
        );
    }

    #[test]
    fn composed_and_decomposed_spellings_are_one_address() {
        let composed = Email::parse("jos\u{e9}@example.com").expect("valid");
        let decomposed = Email::parse("jose\u{301}@example.com").expect("valid");
        assert_eq!(composed.normalized(), decomposed.normalized());
        assert!(Email::parse("ana\u{200B}@example.com").is_err());
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
