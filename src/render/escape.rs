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
