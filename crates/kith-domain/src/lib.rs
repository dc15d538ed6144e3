//! Kith's domain: the CRM's value types and business rules.
//!
//! Nothing here knows about HTTP or SQL. Every path that changes a record (forms, the JSON API,
//! the CLI, importers) builds these types, so a rule written here holds everywhere.

pub mod activity;
pub mod client;
pub mod contact;
pub mod deal;
pub mod email;
pub mod ids;
pub mod money;
pub mod phone;
pub mod picklist;
pub mod pipeline;
pub mod quote;
pub mod role;
pub mod search;
pub mod tenant;
pub mod text;
pub mod validation;

pub use email::Email;
pub use ids::{ActivityId, ClientId, ContactId, DealId, QuoteId, StageId, TenantId, UserId};
pub use phone::Phone;
pub use role::Role;
pub use validation::{FieldError, Invalid};
