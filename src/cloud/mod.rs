//! Cloud identifier syntax and region lists, one module per provider, so the rules a spec is
//! held to live next to each other and next to the reference they come from.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod regions;

/// Why a value is not a valid identifier: the reason for the label and a help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub reason: String,
    pub help: String,
}

pub type Check = Result<(), Problem>;

pub(crate) fn problem(reason: impl Into<String>, help: impl Into<String>) -> Check {
    Err(Problem {
        reason: reason.into(),
        help: help.into(),
    })
}

/// `value` must be one of `known`; on a miss the help suggests the closest entries.
pub(crate) fn one_of(value: &str, known: &[&str], what: &str) -> Check {
    if known.contains(&value) {
        return Ok(());
    }
    let help = match crate::suggest::nearest(value, known.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!(
            "use a {what} name such as `{}`",
            known.first().copied().unwrap_or("")
        ),
    };
    problem(format!("not a known {what}"), help)
}

pub(crate) fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) fn len_between(s: &str, min: usize, max: usize, what: &str) -> Check {
    let n = s.chars().count();
    if n < min || n > max {
        return problem(
            format!("{n} characters; a {what} has {min} to {max}"),
            format!("shorten or correct the {what}"),
        );
    }
    Ok(())
}
