//! Escaping for the formats values land in. Templates never concatenate raw values: every
//! value goes through one of these, chosen by the template's format.

/// A JSON string literal: quoted, with `"`, `\` and control characters escaped. It is also a
/// valid YAML double-quoted scalar, so YAML templates use it too.
pub fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A POSIX shell word: single-quoted, with each `'` written as `'\''`. Nothing inside single
/// quotes is expanded by the shell.
pub fn shell_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_quotes_newlines_and_controls() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(json_string("{{x}} !Ref: #"), r#""{{x}} !Ref: #""#);
    }

    #[test]
    fn shell_words_survive_quotes_and_expansions() {
        assert_eq!(shell_word("it's $HOME `x`"), r#"'it'\''s $HOME `x`'"#);
        assert_eq!(shell_word(""), "''");
    }
}
