use kith_domain::Invalid;

/// What can go wrong in storage, in terms the web layer can turn into a response.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record for this tenant (or it belongs to another tenant: the same thing).
    #[error("not found")]
    NotFound,

    /// The input broke a rule that needs the database to check (a duplicate email, an owner that
    /// does not exist…). Names the field.
    #[error("invalid input: {0}")]
    Invalid(#[from] Invalid),

    /// The record changed since the caller read it; `current` is the version now stored.
    #[error("the record was changed by someone else (now at version {current})")]
    Stale { current: i64 },

    /// The record is still referred to by others and cannot be removed.
    #[error("{0}")]
    InUse(String),

    /// A stage still holds these deals (id, title) and no stage to move them to was given.
    #[error("the stage holds {} deals; choose a stage to move them to", .0.len())]
    HoldsDeals(Vec<(i64, String)>),

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the database refused a row because of a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}
