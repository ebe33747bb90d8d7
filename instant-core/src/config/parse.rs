//! The one syntax of each kind of value: durations, booleans and lists, and the nearest known key
//! for an unknown one.

use std::time::Duration;

/// Parses a duration: whole seconds (`30`) or a number with a unit: `500ms`, `30s`, `5m`, `2h`,
/// `1d`.
///
/// # Errors
/// A sentence saying what is expected, when `text` is not such a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let err = || format!("`{text}` is not a duration; write e.g. 30, 500ms, 30s, 5m, 2h or 1d");
    let number: u64 = number.parse().map_err(|_| err())?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| "the duration is too long".to_owned())
    };
    match unit.trim() {
        "" | "s" => seconds(1),
        "ms" => Ok(Duration::from_millis(number)),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => Err(err()),
    }
}

/// Writes a duration the way [`parse_duration`] reads it, in the largest exact unit.
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    if duration.subsec_nanos() != 0 || duration.is_zero() {
        return format!("{}ms", duration.as_millis());
    }
    let secs = duration.as_secs();
    [(86_400, "d"), (3600, "h"), (60, "m")]
        .into_iter()
        .find(|(factor, _)| secs.is_multiple_of(*factor))
        .map_or_else(
            || format!("{secs}s"),
            |(factor, unit)| format!("{}{unit}", secs / factor),
        )
}

/// Parses a boolean: `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, in any case.
///
/// # Errors
/// A sentence saying what is expected.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false (also 1/0, yes/no, on/off)".to_owned()),
    }
}

/// Splits a list written in one string: items separated by commas and/or whitespace.
#[must_use]
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg_attr(not(feature = "settings"), allow(dead_code))]
/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg_attr(not(feature = "settings"), allow(dead_code))]
/// The Levenshtein distance, with a transposition of two neighbours counting as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        for text in ["1h", "5s", "90s", "2d", "250ms", "15m", "0ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn booleans_and_lists_parse() {
        assert_eq!(parse_bool(" Yes "), Ok(true));
        assert_eq!(parse_bool("off"), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(split_list("a, b  c,,d"), ["a", "b", "c", "d"]);
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn the_nearest_key_is_suggested() {
        let keys = ["secret", "site_slug", "site_name", "presence"];
        assert_eq!(nearest("secrte", keys), Some("secret"));
        assert_eq!(nearest("site_slugg", keys), Some("site_slug"));
        assert_eq!(nearest("presense", keys), Some("presence"));
        assert_eq!(nearest("colour", keys), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
