//! Typed record identifiers, so that a contact id can never be passed where a client id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// One customer organisation of Kith (an MSP). Every tenant-owned row carries it.
    TenantId
);
id_type!(
    /// A person who signs in to Kith.
    UserId
);
id_type!(
    /// A client (account): a company the tenant sells to or supports.
    ClientId
);
id_type!(
    /// A contact: a person at a client, or on their own.
    ContactId
);
id_type!(
    /// A pipeline stage of one tenant, such as "Proposal".
    StageId
);
id_type!(
    /// A deal (opportunity) moving through the pipeline.
    DealId
);
id_type!(
    /// A quote sent to a client, optionally linked to a deal.
    QuoteId
);
id_type!(
    /// An activity: a call, meeting, email, note or task on the record.
    ActivityId
);
