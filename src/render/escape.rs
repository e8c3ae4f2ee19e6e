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

/// A string literal inside an ARM template expression: single-quoted, `'` doubled.
pub fn arm_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A string ARM reads as the literal it is. ARM evaluates a string value that starts with `[`
/// and ends with `]` as a template expression; its escape is a second leading `[`. Other
/// strings are literals already and must stay as they are.
pub fn arm_literal(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with('[') && s.ends_with(']') {
        std::borrow::Cow::Owned(format!("[{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// `json_string` for ARM templates: the literal escape, then JSON's.
pub fn arm_json_string(s: &str) -> String {
    json_string(&arm_literal(s))
}

/// A JSON value with every string and object key at any depth made an ARM literal (ARM also
/// evaluates expressions in property names, tag names among them).
pub fn arm_value(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(arm_literal(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(arm_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (arm_literal(k).into_owned(), arm_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Standard base64 with padding (RFC 4648), for payloads ARM decodes with `base64ToString`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn arm_literals_double_the_bracket_of_what_would_be_an_expression() {
        assert_eq!(arm_literal("[concat('a')]"), "[[concat('a')]");
        assert_eq!(arm_literal("[[x]"), "[[[x]");
        // Not an expression: ARM reads these as written, so they stay.
        assert_eq!(arm_literal("[test] value"), "[test] value");
        assert_eq!(arm_literal("a[b]"), "a[b]");
        let v = arm_value(&serde_json::json!({"[k]": ["[v]", 1, {"x": "[y]"}]}));
        assert_eq!(v, serde_json::json!({"[[k]": ["[[v]", 1, {"x": "[[y]"}]}));
    }

    #[test]
    fn arm_strings_double_single_quotes() {
        assert_eq!(arm_string("it's"), "'it''s'");
    }

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
