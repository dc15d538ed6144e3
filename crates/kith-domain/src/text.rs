//! Rules for free text typed into names and notes.

/// Trims `input` and returns `None` when nothing is left, so that a blank form field is stored as
/// NULL and never as an empty string.
pub fn optional(input: Option<&str>) -> Option<String> {
    input
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Checks a required single-line text field: present, at most `max` characters, and free of
/// control characters (which only ever arrive by accident, e.g. from a pasted spreadsheet cell).
pub fn required_line(input: &str, max: usize) -> Result<String, String> {
    let value = input.trim();
    if value.is_empty() {
        return Err("is required".into());
    }
    line(value, max).map(str::to_owned)
}

/// Checks an optional single-line text field; blank becomes `None`.
pub fn optional_line(input: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match optional(input) {
        None => Ok(None),
        Some(value) => line(&value, max).map(|v| Some(v.to_owned())),
    }
}

/// Checks an optional multi-line text field such as notes; blank becomes `None`.
pub fn optional_block(input: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(value) = optional(input) else {
        return Ok(None);
    };
    let length = value.chars().count();
    if length > max {
        return Err(format!("is {length} characters long; the limit is {max}"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("contains a control character (such as a NUL byte); remove it".into());
    }
    Ok(Some(value.replace("\r\n", "\n")))
}

fn line(value: &str, max: usize) -> Result<&str, String> {
    let length = value.chars().count();
    if length > max {
        return Err(format!("is {length} characters long; the limit is {max}"));
    }
    if value.chars().any(char::is_control) {
        return Err("must be a single line without control characters".into());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_none_not_empty() {
        assert_eq!(optional(Some("   ")), None);
        assert_eq!(optional(Some(" a ")), Some("a".to_owned()));
        assert_eq!(optional_line(Some(""), 10), Ok(None));
    }

    #[test]
    fn limits_are_named() {
        assert_eq!(
            required_line("abcdef", 3),
            Err("is 6 characters long; the limit is 3".into())
        );
        assert_eq!(required_line("  ", 3), Err("is required".into()));
        assert!(required_line("a\tb", 10).is_err());
    }

    #[test]
    fn blocks_keep_lines_but_refuse_nul() {
        assert_eq!(
            optional_block(Some("a\r\nb\tc"), 100),
            Ok(Some("a\nb\tc".into()))
        );
        assert!(optional_block(Some("a\u{0}b"), 100).is_err());
    }

    #[test]
    fn markup_is_kept_as_typed() {
        let name = r#""><img src=x onerror=alert(1)>"#;
        assert_eq!(required_line(name, 200).as_deref(), Ok(name));
    }
}
