//! What each role may do.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A user's role within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including settings and users.
    Owner,
    /// Settings and users, and every CRM record.
    Admin,
    /// Creates, edits and deletes CRM records.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// May create, edit and delete CRM records.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// May change tenant settings and manage users.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown role \"{s}\"; use owner, admin, member or viewer"))
    }
}
