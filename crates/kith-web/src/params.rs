//! Reading URL query strings and urlencoded form bodies, including repeated keys.

/// Decoded `key=value` pairs in their original order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(input: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn from_query(query: Option<&str>) -> Self {
        Self::parse(query.unwrap_or_default().as_bytes())
    }

    /// Sets `key` to `value` alone, in place of any values it had.
    pub fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value));
    }

    /// The first value of `key`, trimmed, or `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `key` as typed (not trimmed), or `None` when absent.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every non-blank value of `key`; comma-separated values are split too.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every value of `key` exactly as sent, blanks included (for parallel form arrays).
    pub fn each(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a checkbox named `key` was ticked.
    pub fn checked(&self, key: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && !v.is_empty())
    }

    /// A positive integer parameter; a malformed value is an error naming the field.
    pub fn id(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("\"{v}\" is not a number")),
        }
    }

    /// A record picked by id: `12`, `#12`, or a picker's "Harbor Dental (#12)".
    pub fn record_id(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => record_id_in(v).map(Some).ok_or_else(|| {
                format!("\"{v}\" names no record; pick one from the list or give its #id")
            }),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// The id in `12`, `#12` or "Harbor Dental (#12)".
pub fn record_id_in(text: &str) -> Option<i64> {
    let text = text.trim();
    let id = text
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once("(#"))
        .map(|(_, id)| id)
        .or_else(|| text.strip_prefix('#'))
        .unwrap_or(text);
    id.trim().parse().ok()
}
