//! Tenant-defined pick lists (client type, lifecycle, industry, deal source) and their defaults.

use serde::{Deserialize, Serialize};

/// Which pick list a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    ClientType,
    Lifecycle,
    Industry,
    DealSource,
    ActivityType,
}

impl ListKind {
    pub const ALL: [ListKind; 5] = [
        ListKind::ClientType,
        ListKind::Lifecycle,
        ListKind::Industry,
        ListKind::DealSource,
        ListKind::ActivityType,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::ClientType => "client_type",
            ListKind::Lifecycle => "lifecycle",
            ListKind::Industry => "industry",
            ListKind::DealSource => "deal_source",
            ListKind::ActivityType => "activity_type",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The values a new tenant starts with, in display order.
    pub fn defaults(self) -> &'static [&'static str] {
        match self {
            ListKind::ClientType => &[
                "Managed services",
                "Project",
                "Break-fix",
                "Vendor",
                "Partner",
            ],
            ListKind::Lifecycle => &["Lead", "Prospect", "Customer", "Former customer"],
            ListKind::Industry => &[
                "Accounting",
                "Construction",
                "Education",
                "Employment",
                "Entertainment",
                "Finance",
                "Government",
                "Healthcare",
                "Hospitality",
                "Legal",
                "Manufacturing",
                "Marketing",
                "Medical",
                "Non-profit",
                "Real estate",
                "Retail",
                "Services",
                "Software",
                "Technology",
                "Telecommunications",
                "Transportation",
                "Other",
            ],
            ListKind::DealSource => &[
                "Referral",
                "Website",
                "Event",
                "Cold outreach",
                "Partner",
                "Transcript capture",
                "Import",
            ],
            ListKind::ActivityType => &[
                "Call",
                "Meeting",
                "Email",
                crate::activity::FOLLOW_UP_TYPE,
                "QBR",
                "Note",
                "Task",
                "Demo",
                "Site visit",
            ],
        }
    }
}

/// One value of a pick list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListValue {
    pub id: i64,
    pub kind: ListKind,
    pub label: String,
    pub sort_order: i32,
}

/// A tenant's pick lists, loaded once per request: they are short.
#[derive(Debug, Clone, Default)]
pub struct PickLists {
    pub values: Vec<ListValue>,
}

impl PickLists {
    /// The values of one list, in display order.
    pub fn of(&self, kind: ListKind) -> impl Iterator<Item = &ListValue> {
        self.values.iter().filter(move |v| v.kind == kind)
    }

    pub fn label(&self, id: Option<i64>) -> Option<&str> {
        let id = id?;
        self.values
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.label.as_str())
    }

    /// Finds a value by its label, ignoring case, accents and surrounding space.
    pub fn find(&self, kind: ListKind, label: &str) -> Option<&ListValue> {
        let wanted = crate::search::fold(label);
        self.of(kind)
            .find(|v| crate::search::fold(&v.label) == wanted)
    }

    /// Resolves a label typed by a user to the value's id, with an error that lists the choices.
    pub fn resolve(&self, kind: ListKind, label: &str) -> Result<i64, String> {
        if let Some(value) = self.find(kind, label) {
            return Ok(value.id);
        }
        let choices: Vec<&str> = self.of(kind).map(|v| v.label.as_str()).collect();
        if choices.is_empty() {
            return Err(format!(
                "\"{}\" is not in the list, which has no values yet",
                label.trim()
            ));
        }
        Err(format!(
            "\"{}\" is not in the list; choose one of: {}",
            label.trim(),
            choices.join(", ")
        ))
    }

    /// Like [`PickLists::resolve`], for an optional field: blank means no value.
    pub fn resolve_optional(
        &self,
        kind: ListKind,
        label: Option<&str>,
    ) -> Result<Option<i64>, String> {
        match crate::text::optional(label) {
            None => Ok(None),
            Some(label) => self.resolve(kind, &label).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> PickLists {
        let source = |id, label: &str| ListValue {
            id,
            kind: ListKind::DealSource,
            label: label.into(),
            sort_order: id as i32,
        };
        PickLists {
            values: vec![source(1, "Referral"), source(2, "Cold outreach")],
        }
    }

    #[test]
    fn every_kind_round_trips_and_has_defaults() {
        for kind in ListKind::ALL {
            assert_eq!(ListKind::parse(kind.as_str()), Some(kind));
            assert!(!kind.defaults().is_empty(), "{}", kind.as_str());
        }
        assert_eq!(ListKind::DealSource.as_str(), "deal_source");
        assert_eq!(ListKind::DealSource.defaults()[0], "Referral");
    }

    #[test]
    fn optional_labels_resolve_or_name_the_choices() {
        let lists = sources();
        assert_eq!(
            lists.resolve_optional(ListKind::DealSource, Some(" cold OUTREACH ")),
            Ok(Some(2))
        );
        assert_eq!(
            lists.resolve_optional(ListKind::DealSource, Some(" ")),
            Ok(None)
        );
        assert_eq!(
            lists.resolve_optional(ListKind::DealSource, Some("Billboard")),
            Err("\"Billboard\" is not in the list; choose one of: Referral, Cold outreach".into())
        );
        assert_eq!(
            lists.resolve_optional(ListKind::Industry, Some("Referral")),
            Err("\"Referral\" is not in the list, which has no values yet".into())
        );
    }
}
