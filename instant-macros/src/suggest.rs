//! "Did you mean" suggestions for misspelt keywords.

/// The candidate closest to `word` when it is a plausible misspelling (a couple of edits away,
/// ignoring case).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|candidate| (edit_distance(&word, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance counting an adjacent transposition as one edit (`supreuser` is one
/// edit from `superuser`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: &[&str] = &["superuser", "staff", "users", "public"];

    #[test]
    fn near_misses_are_suggested() {
        assert_eq!(closest("supreuser", LEVELS), Some("superuser"));
        assert_eq!(closest("Superuser", LEVELS), Some("superuser"));
        assert_eq!(closest("user", LEVELS), Some("users"));
        assert_eq!(closest("pubilc", LEVELS), Some("public"));
        assert_eq!(closest("stuff", LEVELS), Some("staff"));
    }

    #[test]
    fn unrelated_words_are_not() {
        assert_eq!(closest("admin", LEVELS), None);
        assert_eq!(closest("x", LEVELS), None);
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
