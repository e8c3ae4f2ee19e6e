//! "Did you mean …": the nearest candidate by edit distance, when one is close enough.

/// The candidate closest to `word`, if its distance is small relative to the word's length.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let limit = |c: &str| (c.len().max(word.len()) / 3).max(1);
    candidates
        .into_iter()
        // The distance is at least the difference in length: skip the edit distance when that
        // alone is too far.
        .filter(|c| c.len().abs_diff(word.len()) <= limit(c))
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word_lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= limit(c))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn finds_close_names_and_ignores_far_ones() {
        let fields = ["region", "instance_id", "db_instance", "data_volume"];
        assert_eq!(nearest("regoin", fields), Some("region"));
        assert_eq!(nearest("instanceid", fields), Some("instance_id"));
        assert_eq!(nearest("colour", fields), None);
        assert_eq!(
            nearest("eu-wets-1", ["eu-west-1", "eu-west-2"]),
            Some("eu-west-1")
        );
    }
}
