//! Contacts: the people at clients, their channels and their consent.

use crate::client::parse_tags;
use crate::email::Email;
use crate::phone::Phone;
use crate::search;
use crate::text;
use crate::validation::{Checker, Invalid};
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 100;
pub const PHONES_MAX: usize = 10;
pub const EMAILS_MAX: usize = 10;

/// The roles a contact can play at their client; a contact may have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactType {
    #[serde(rename = "primary")]
    Primary,
    #[serde(rename = "billing")]
    Billing,
    #[serde(rename = "technical")]
    Technical,
    #[serde(rename = "decision-maker")]
    DecisionMaker,
    #[serde(rename = "c-suite")]
    CSuite,
}

impl ContactType {
    pub const ALL: [ContactType; 5] = [
        ContactType::Primary,
        ContactType::Billing,
        ContactType::Technical,
        ContactType::DecisionMaker,
        ContactType::CSuite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactType::Primary => "primary",
            ContactType::Billing => "billing",
            ContactType::Technical => "technical",
            ContactType::DecisionMaker => "decision-maker",
            ContactType::CSuite => "c-suite",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContactType::Primary => "Primary",
            ContactType::Billing => "Billing",
            ContactType::Technical => "Technical",
            ContactType::DecisionMaker => "Decision-maker",
            ContactType::CSuite => "C-suite",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        Self::ALL.into_iter().find(|t| t.as_str() == wanted).ok_or_else(|| {
            format!("\"{}\" is not a contact type; use primary, billing, technical, decision-maker or c-suite", s.trim())
        })
    }
}

/// A way to reach a contact that consent applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Phone,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Phone, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
    }
}

/// How the contact prefers to be reached. "none" does not block a campaign; an opt-out does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PreferredChannel {
    #[default]
    Email,
    Phone,
    Sms,
    None,
}

impl PreferredChannel {
    pub const ALL: [PreferredChannel; 4] = [
        PreferredChannel::Email,
        PreferredChannel::Phone,
        PreferredChannel::Sms,
        PreferredChannel::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PreferredChannel::Email => "email",
            PreferredChannel::Phone => "phone",
            PreferredChannel::Sms => "sms",
            PreferredChannel::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a channel; use email, phone, sms or none",
                    s.trim()
                )
            })
    }
}

/// Who or what changed a contact's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    User,
    UnsubscribeLink,
    Import,
    Bounce,
    Api,
}

impl ConsentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::User => "user",
            ConsentSource::UnsubscribeLink => "unsubscribe_link",
            ConsentSource::Import => "import",
            ConsentSource::Bounce => "bounce",
            ConsentSource::Api => "api",
        }
    }
}

/// A phone as submitted: a label (work, mobile…) and the number as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneInput {
    #[serde(default)]
    pub label: String,
    pub number: String,
}

/// A contact as submitted by a form, the API or an importer, before any checks.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub client_id: Option<i64>,
    pub email: Option<String>,
    pub other_emails: Vec<String>,
    pub phones: Vec<PhoneInput>,
    pub types: Vec<String>,
    pub preferred_channel: Option<String>,
    /// Opt-out wishes per channel; `None` leaves the channel as it is.
    pub opt_out: [Option<bool>; 3],
    pub tags: Vec<String>,
    pub owner_id: Option<i64>,
    pub notes: Option<String>,
}

/// A checked phone with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledPhone {
    pub label: String,
    pub phone: Phone,
}

/// A checked contact, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub client_id: Option<i64>,
    pub email: Option<Email>,
    pub other_emails: Vec<Email>,
    pub phones: Vec<LabelledPhone>,
    pub types: Vec<ContactType>,
    pub preferred_channel: PreferredChannel,
    pub opt_out: [Option<bool>; 3],
    pub tags: Vec<String>,
    pub owner_id: Option<i64>,
    pub notes: Option<String>,
}

impl ContactFields {
    /// Checks every field of `input`, naming each one that is wrong.
    pub fn parse(input: &ContactInput, default_country: &str) -> Result<Self, Invalid> {
        let mut check = Checker::default();

        let first_name = check.check(
            "first_name",
            text::optional_line(input.first_name.as_deref(), NAME_MAX),
        );
        let last_name = check.check(
            "last_name",
            text::optional_line(input.last_name.as_deref(), NAME_MAX),
        );
        let title = check.check("title", text::optional_line(input.title.as_deref(), 200));
        let email = match text::optional(input.email.as_deref()) {
            None => None,
            Some(raw) => check.check("email", Email::parse(&raw)),
        };
        let other_emails = parse_other_emails(&mut check, &input.other_emails, email.as_ref());
        let phones = parse_phones(&mut check, &input.phones, default_country);
        let types = parse_types(&mut check, &input.types);
        let preferred_channel = match text::optional(input.preferred_channel.as_deref()) {
            None => Some(PreferredChannel::default()),
            Some(raw) => check.check("preferred_channel", PreferredChannel::parse(&raw)),
        };
        let tags = check.check("tags", parse_tags(&input.tags));
        let notes = check.check(
            "notes",
            text::optional_block(input.notes.as_deref(), 50_000),
        );

        let first_name = first_name.flatten();
        let last_name = last_name.flatten();
        if first_name.is_none() && last_name.is_none() {
            check.add("first_name", "a first or a last name is required");
        }
        check.finish()?;

        Ok(Self {
            first_name,
            last_name,
            title: title.flatten(),
            client_id: input.client_id,
            email,
            other_emails,
            phones,
            types,
            preferred_channel: preferred_channel.unwrap_or_default(),
            opt_out: input.opt_out,
            tags: tags.unwrap_or_default(),
            owner_id: input.owner_id,
            notes: notes.flatten(),
        })
    }

    /// "First Last", or whichever of the two is present.
    pub fn display_name(&self) -> String {
        display_name(self.first_name.as_deref(), self.last_name.as_deref())
    }

    /// The folded key contacts are sorted by: last name, then first name.
    pub fn sort_name(&self) -> String {
        sort_name(self.first_name.as_deref(), self.last_name.as_deref())
    }

    /// The folded text search matches: names, emails and phones.
    pub fn search_text(&self) -> String {
        let digits: Vec<String> = self
            .phones
            .iter()
            .flat_map(|p| p.phone.search_digits())
            .collect();
        let mut parts: Vec<&str> = Vec::new();
        parts.extend(self.first_name.as_deref());
        parts.extend(self.last_name.as_deref());
        parts.extend(self.title.as_deref());
        parts.extend(self.email.as_ref().map(Email::as_str));
        parts.extend(self.other_emails.iter().map(Email::as_str));
        for phone in &self.phones {
            parts.push(&phone.phone.raw);
        }
        parts.extend(digits.iter().map(String::as_str));
        let name = self.display_name();
        parts.push(&name);
        search::document(parts)
    }
}

/// "First Last", or whichever of the two is present.
pub fn display_name(first: Option<&str>, last: Option<&str>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => String::new(),
    }
}

/// The folded sort key: last name, then first name.
pub fn sort_name(first: Option<&str>, last: Option<&str>) -> String {
    search::fold(&format!(
        "{} {}",
        last.unwrap_or_default(),
        first.unwrap_or_default()
    ))
}

fn parse_other_emails(
    check: &mut Checker,
    input: &[String],
    primary: Option<&Email>,
) -> Vec<Email> {
    let mut emails: Vec<Email> = Vec::new();
    for (i, raw) in input.iter().flat_map(|s| s.split([',', '\n'])).enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let Some(email) = check.check(&format!("other_emails[{i}]"), Email::parse(raw)) else {
            continue;
        };
        let seen = primary
            .into_iter()
            .chain(emails.iter())
            .any(|e| e.normalized() == email.normalized());
        if !seen {
            emails.push(email);
        }
    }
    if emails.len() > EMAILS_MAX {
        check.add(
            "other_emails",
            format!("has {} addresses; the limit is {EMAILS_MAX}", emails.len()),
        );
    }
    emails
}

fn parse_phones(
    check: &mut Checker,
    input: &[PhoneInput],
    default_country: &str,
) -> Vec<LabelledPhone> {
    let mut phones = Vec::new();
    for (i, entry) in input.iter().enumerate() {
        if entry.number.trim().is_empty() {
            continue;
        }
        let label = text::optional(Some(&entry.label)).unwrap_or_else(|| "work".to_owned());
        if label.chars().count() > 30 {
            check.add(
                &format!("phones[{i}].label"),
                "is longer than 30 characters",
            );
            continue;
        }
        if let Some(phone) = check.check(
            &format!("phones[{i}]"),
            Phone::parse(&entry.number, default_country),
        ) {
            phones.push(LabelledPhone { label, phone });
        }
    }
    if phones.len() > PHONES_MAX {
        check.add(
            "phones",
            format!("has {} numbers; the limit is {PHONES_MAX}", phones.len()),
        );
    }
    phones
}

fn parse_types(check: &mut Checker, input: &[String]) -> Vec<ContactType> {
    let mut types = Vec::new();
    for raw in input
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.trim().is_empty())
    {
        if let Some(t) = check.check("types", ContactType::parse(raw))
            && !types.contains(&t)
        {
            types.push(t);
        }
    }
    types
}

/// One change of a contact's opt-out on one channel, to be kept as a consent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub channel: Channel,
    pub opted_out_before: bool,
    pub opted_out_after: bool,
}

/// The consent events implied by moving from `before` to the wishes in `wanted`: one per channel
/// whose opt-out actually changes. A wish equal to the current state records nothing.
pub fn consent_changes(before: [bool; 3], wanted: [Option<bool>; 3]) -> Vec<ConsentChange> {
    Channel::ALL
        .into_iter()
        .enumerate()
        .filter_map(|(i, channel)| {
            let after = wanted[i]?;
            (after != before[i]).then_some(ConsentChange {
                channel,
                opted_out_before: before[i],
                opted_out_after: after,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_required_and_errors_name_their_fields() {
        let input = ContactInput {
            email: Some("not-an-email".into()),
            phones: vec![PhoneInput {
                label: "work".into(),
                number: "call me".into(),
            }],
            types: vec!["boss".into()],
            ..Default::default()
        };
        let err = ContactFields::parse(&input, "GB").expect_err("invalid");
        assert_eq!(
            err.message_for("first_name"),
            Some("a first or a last name is required")
        );
        assert_eq!(
            err.message_for("email"),
            Some("\"not-an-email\" is not an email address: it has no @")
        );
        assert_eq!(
            err.message_for("phones[0]"),
            Some("\"call me\" has no digits")
        );
        assert!(err.message_for("types").is_some());
    }

    #[test]
    fn other_emails_skip_the_primary_and_repeats() {
        let input = ContactInput {
            first_name: Some("Ana".into()),
            email: Some("ana@example.com".into()),
            other_emails: vec![
                "ANA@example.com, ana.silva@work.example".into(),
                "Ana.Silva@work.example".into(),
            ],
            ..Default::default()
        };
        let contact = ContactFields::parse(&input, "GB").expect("valid");
        let others: Vec<&str> = contact.other_emails.iter().map(Email::as_str).collect();
        assert_eq!(others, ["ana.silva@work.example"]);
    }

    #[test]
    fn phones_keep_raw_text_and_gain_e164() {
        let input = ContactInput {
            last_name: Some("Shah".into()),
            phones: vec![PhoneInput {
                label: String::new(),
                number: "020 7946 0018".into(),
            }],
            ..Default::default()
        };
        let contact = ContactFields::parse(&input, "GB").expect("valid");
        assert_eq!(contact.phones[0].label, "work");
        assert_eq!(
            contact.phones[0].phone.e164.as_deref(),
            Some("+442079460018")
        );
        assert_eq!(contact.phones[0].phone.raw, "020 7946 0018");
    }

    #[test]
    fn only_real_changes_become_consent_events() {
        let changes = consent_changes([false, true, false], [Some(true), Some(true), None]);
        assert_eq!(
            changes,
            [ConsentChange {
                channel: Channel::Email,
                opted_out_before: false,
                opted_out_after: true
            }]
        );
    }

    #[test]
    fn sort_name_is_last_then_first_folded() {
        assert_eq!(sort_name(Some("José"), Some("O'Hara")), "ohara jose");
    }
}
