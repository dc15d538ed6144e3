//! The board's filters as the user typed them, shared by the board and the forecast: echoed back
//! into the form, kept across moves, and carried over when switching between the two views.

use crate::params::Params;
use crate::views::url_with;

/// The filter fields of `/crm/pipeline` and `/crm/pipeline/forecast`, unparsed.
#[derive(Debug, Default)]
pub struct DealFilterValues {
    pub search: String,
    pub owner: String,
    pub source: String,
    pub client: String,
    pub close_from: String,
    pub close_to: String,
}

impl DealFilterValues {
    pub fn read(params: &Params) -> Self {
        let get = |name: &str| params.get(name).unwrap_or_default().to_owned();
        Self {
            search: get("search"),
            owner: get("owner"),
            source: get("source"),
            client: get("client"),
            close_from: get("close_from"),
            close_to: get("close_to"),
        }
    }

    /// Whether any filter is set.
    pub fn any(&self) -> bool {
        self.pairs()
            .iter()
            .any(|(_, value)| !value.trim().is_empty())
    }

    /// The set filters as query parameters, in form order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("search", self.search.clone()),
            ("owner", self.owner.clone()),
            ("source", self.source.clone()),
            ("client", self.client.clone()),
            ("close_from", self.close_from.clone()),
            ("close_to", self.close_to.clone()),
        ]
    }

    /// The set filters as a query string without the `?`; empty when none is set.
    pub fn query(&self) -> String {
        url_with("", &self.pairs())
            .trim_start_matches('?')
            .to_owned()
    }

    /// `path` with these filters.
    pub fn url(&self, path: &str) -> String {
        url_with(path, &self.pairs())
    }
}
