//! Tenant-defined pick lists (client type, lifecycle, industry) and their defaults.

use serde::{Deserialize, Serialize};

/// Which pick list a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    ClientType,
    Lifecycle,
    Industry,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [
        ListKind::ClientType,
        ListKind::Lifecycle,
        ListKind::Industry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::ClientType => "client_type",
            ListKind::Lifecycle => "lifecycle",
            ListKind::Industry => "industry",
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
        Err(format!(
            "\"{}\" is not in the list; choose one of: {}",
            label.trim(),
            choices.join(", ")
        ))
    }
}
