//! Clients (accounts): the companies a tenant sells to and supports.

use crate::phone::Phone;
use crate::picklist::{ListKind, PickLists};
use crate::search;
use crate::text;
use crate::validation::{Checker, Invalid};

/// Limits on client fields, shown to users when exceeded.
pub const NAME_MAX: usize = 200;
pub const NOTES_MAX: usize = 50_000;
pub const TAGS_MAX: usize = 50;

/// A client as submitted by a form, the API or an importer, before any checks.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    /// Domains separated by commas, spaces or new lines.
    pub domains: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Labels from the tenant's lists; blank means none.
    pub client_type: Option<String>,
    pub lifecycle: Option<String>,
    pub industry: Option<String>,
    pub tags: Vec<String>,
    pub owner_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub notes: Option<String>,
}

/// A checked client, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFields {
    pub name: String,
    pub domains: Vec<String>,
    pub website: Option<String>,
    pub phone: Option<Phone>,
    pub address: Option<String>,
    pub type_id: Option<i64>,
    pub lifecycle_id: Option<i64>,
    pub industry_id: Option<i64>,
    pub tags: Vec<String>,
    pub owner_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub notes: Option<String>,
}

impl ClientFields {
    /// Checks every field of `input`, naming each one that is wrong.
    pub fn parse(
        input: &ClientInput,
        lists: &PickLists,
        default_country: &str,
    ) -> Result<Self, Invalid> {
        let mut check = Checker::default();

        let name = check.check("name", text::required_line(&input.name, NAME_MAX));
        let domains = check.check("domains", parse_domains(input.domains.as_deref()));
        let website = check.check("website", parse_website(input.website.as_deref()));
        let phone = check.check(
            "phone",
            optional_phone(input.phone.as_deref(), default_country),
        );
        let address = check.check(
            "address",
            text::optional_block(input.address.as_deref(), 1_000),
        );
        let type_id = check.check(
            "type",
            lists.resolve_optional(ListKind::ClientType, input.client_type.as_deref()),
        );
        let lifecycle_id = check.check(
            "lifecycle",
            lists.resolve_optional(ListKind::Lifecycle, input.lifecycle.as_deref()),
        );
        let industry_id = check.check(
            "industry",
            lists.resolve_optional(ListKind::Industry, input.industry.as_deref()),
        );
        let tags = check.check("tags", parse_tags(&input.tags));
        let notes = check.check(
            "notes",
            text::optional_block(input.notes.as_deref(), NOTES_MAX),
        );
        check.finish()?;

        Ok(Self {
            name: name.unwrap_or_default(),
            domains: domains.unwrap_or_default(),
            website: website.flatten(),
            phone: phone.flatten(),
            address: address.flatten(),
            type_id: type_id.flatten(),
            lifecycle_id: lifecycle_id.flatten(),
            industry_id: industry_id.flatten(),
            tags: tags.unwrap_or_default(),
            owner_id: input.owner_id,
            parent_id: input.parent_id,
            notes: notes.flatten(),
        })
    }

    /// The folded text that search matches against: name, domains, website and phone.
    pub fn search_text(&self) -> String {
        let digits: Vec<String> = self.phone.iter().flat_map(Phone::search_digits).collect();
        let mut parts = vec![self.name.as_str()];
        parts.extend(self.domains.iter().map(String::as_str));
        parts.extend(self.website.as_deref());
        if let Some(phone) = &self.phone {
            parts.push(&phone.raw);
        }
        parts.extend(digits.iter().map(String::as_str));
        search::document(parts)
    }
}

fn optional_phone(raw: Option<&str>, default_country: &str) -> Result<Option<Phone>, String> {
    match text::optional(raw) {
        None => Ok(None),
        Some(raw) => Phone::parse(&raw, default_country).map(Some),
    }
}

/// Splits a list of domains, lower-cases them and drops a pasted scheme or `www.`.
pub fn parse_domains(input: Option<&str>) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for part in input
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
    {
        if part.is_empty() {
            continue;
        }
        let domain = part.to_lowercase();
        let domain = domain
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let domain = domain.trim_start_matches("www.").trim_end_matches('/');
        let valid = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if !valid {
            return Err(format!(
                "\"{part}\" is not a domain name such as example.com"
            ));
        }
        if !domains.iter().any(|d| d == domain) {
            domains.push(domain.to_owned());
        }
    }
    Ok(domains)
}

/// Accepts an http(s) URL or a bare host name (which gets `https://`). Any other scheme is
/// refused, so a stored website can always be shown as a safe link.
pub fn parse_website(input: Option<&str>) -> Result<Option<String>, String> {
    let Some(url) = text::optional(input) else {
        return Ok(None);
    };
    if url.chars().count() > 500 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a web address without spaces, at most 500 characters".into());
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(Some(url));
    }
    if lower.contains("://") || lower.starts_with("javascript:") || lower.starts_with("data:") {
        return Err("must start with http:// or https://".into());
    }
    if !url.contains('.') {
        return Err(format!("\"{url}\" is not a web address"));
    }
    Ok(Some(format!("https://{url}")))
}

/// Trims tags, drops blanks, and keeps the first spelling of tags that differ only by case or
/// accents.
pub fn parse_tags(input: &[String]) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in input.iter().flat_map(|t| t.split(',')) {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > 50 {
            return Err(format!("\"{tag}\" is longer than 50 characters"));
        }
        if tag.chars().any(char::is_control) {
            return Err("a tag contains a control character; remove it".into());
        }
        if !tags.iter().any(|t| search::fold(t) == search::fold(tag)) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(format!("has {} tags; the limit is {TAGS_MAX}", tags.len()));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picklist::ListValue;

    fn lists() -> PickLists {
        let industry = |id, label: &str| ListValue {
            id,
            kind: ListKind::Industry,
            label: label.into(),
            sort_order: id as i32,
        };
        PickLists {
            values: vec![industry(1, "Retail"), industry(2, "Medical")],
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = ClientInput {
            name: " ".into(),
            website: Some("javascript:alert(1)".into()),
            industry: Some("Mining".into()),
            ..Default::default()
        };
        let err = ClientFields::parse(&input, &lists(), "GB").expect_err("invalid");
        assert_eq!(err.message_for("name"), Some("is required"));
        assert_eq!(
            err.message_for("website"),
            Some("must start with http:// or https://")
        );
        assert_eq!(
            err.message_for("industry"),
            Some("\"Mining\" is not in the list; choose one of: Retail, Medical")
        );
    }

    #[test]
    fn labels_match_without_case() {
        let input = ClientInput {
            name: "Acme".into(),
            industry: Some("retail".into()),
            ..Default::default()
        };
        assert_eq!(
            ClientFields::parse(&input, &lists(), "GB")
                .expect("valid")
                .industry_id,
            Some(1)
        );
    }

    #[test]
    fn domains_and_websites_are_tidied() {
        assert_eq!(
            parse_domains(Some("https://www.Acme.com/, acme.co.uk acme.com")).expect("ok"),
            ["acme.com", "acme.co.uk"]
        );
        assert_eq!(
            parse_website(Some("acme.com")).expect("ok").as_deref(),
            Some("https://acme.com")
        );
    }

    #[test]
    fn tags_deduplicate_by_folded_form() {
        let tags = parse_tags(&["VIP, vip".into(), " Café ".into(), "cafe".into()]).expect("ok");
        assert_eq!(tags, ["VIP", "Café"]);
    }
}
