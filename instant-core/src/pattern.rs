//! Channel patterns: declared names with named parameters, such as `$order_{id}`, that make one
//! concrete channel per object or per user (`$order_42`).
//!
//! # Rules
//! - A parameter is `{name}`, `name` an identifier (`[A-Za-z_][A-Za-z0-9_]*`); a name appears
//!   once per pattern. `{` and `}` appear only around parameters.
//! - A parameter's value is 1 to [`MAX_PARAM_LEN`] bytes of ASCII letters, digits and `-`
//!   ([`is_param_char`]): no `_`, `:`, `.`, `$` or `#`, so the literal text of the pattern always
//!   tells where a value ends.
//! - A parameter is followed by the end of the name or by literal text starting with a character
//!   a value cannot hold (`{a}{b}`, `{a}-{b}` and `{id}x` are refused: they could be read in
//!   several ways).
//! - The longest name a pattern makes (its literal text plus [`MAX_PARAM_LEN`] bytes per
//!   parameter) fits in Centrifugo's 255 bytes.
//! - No two declarations of a set may produce the same concrete name: for each pair the check
//!   looks for a name both accept, and refuses the pair with that name as an example. The check
//!   is exact for the value alphabet above, so it refuses only pairs that really overlap
//!   (`$order_{id}` and `$order_new` do; `$order_{id}` and `$orders_{id}` do not).

use std::fmt;

/// The longest parameter value, in bytes.
pub const MAX_PARAM_LEN: usize = 64;

/// Whether `c` may appear in a parameter value: ASCII letters, digits and `-`.
#[must_use]
pub const fn is_param_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// One piece of a pattern: literal text, or a parameter by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Literal(&'a str),
    Param(&'a str),
}

/// Splits a declared name into literal text and parameters; a name without `{` is one literal.
///
/// # Errors
/// A sentence saying which rule of [the module](self) the template breaks.
pub(crate) fn segments(template: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut segments = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                segments.push(Segment::Literal(rest));
                break;
            }
            Some(at) if rest.as_bytes()[at] == b'}' => {
                return Err("`}` without a matching `{`".to_owned());
            }
            Some(at) => {
                if at > 0 {
                    segments.push(Segment::Literal(&rest[..at]));
                }
                let after = &rest[at + 1..];
                let end = after
                    .find(['{', '}'])
                    .filter(|end| after.as_bytes()[*end] == b'}')
                    .ok_or_else(|| "`{` without a matching `}`".to_owned())?;
                let name = &after[..end];
                if !is_identifier(name) {
                    return Err(format!(
                        "parameter `{{{name}}}` must be named by an identifier (letters, digits \
                         and `_`, not starting with a digit)"
                    ));
                }
                if segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param(p) if *p == name))
                {
                    return Err(format!("parameter `{{{name}}}` appears twice"));
                }
                if let Some(Segment::Param(previous)) = segments.last() {
                    return Err(format!(
                        "parameters `{{{previous}}}` and `{{{name}}}` need literal text between them"
                    ));
                }
                segments.push(Segment::Param(name));
                rest = &after[end + 1..];
                if let Some(next) = rest.chars().next()
                    && is_param_char(next)
                {
                    return Err(format!(
                        "parameter `{{{name}}}` is followed by `{next}`, which a value may hold: \
                         start the text after a parameter with a character other than letters, \
                         digits and `-` (such as `_`, `.` or `:`)"
                    ));
                }
            }
        }
    }
    let params = segments
        .iter()
        .filter(|s| matches!(s, Segment::Param(_)))
        .count();
    let literal: usize = segments
        .iter()
        .map(|s| match s {
            Segment::Literal(text) => text.len(),
            Segment::Param(_) => 0,
        })
        .sum();
    if params > 0 && literal + params * MAX_PARAM_LEN > crate::MAX_CHANNEL_NAME_LEN {
        return Err(format!(
            "its longest name ({literal} bytes of text plus {MAX_PARAM_LEN} per parameter) would \
             be longer than {} bytes",
            crate::MAX_CHANNEL_NAME_LEN
        ));
    }
    Ok(segments)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a declared name holds parameters.
#[must_use]
pub(crate) fn is_pattern(template: &str) -> bool {
    template.contains('{')
}

/// Why a parameter value or a set of values was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// A value holds a character other than ASCII letters, digits and `-`, or is empty or too long.
    #[error("parameter value `{0}` must be 1 to {MAX_PARAM_LEN} ASCII letters, digits or `-`")]
    InvalidValue(String),
    /// Not as many values as the pattern has parameters.
    #[error("pattern `{pattern}` takes {expected} parameter(s), {given} given")]
    WrongArity {
        /// The pattern.
        pattern: String,
        /// How many parameters it has.
        expected: usize,
        /// How many values were given.
        given: usize,
    },
}

/// A checked parameter value: 1 to [`MAX_PARAM_LEN`] ASCII letters, digits or `-`.
///
/// Integers and UUIDs are always valid and go to [`Channel::with`](crate::Channel::with) as they
/// are; a string goes through [`ParamValue::new`] (or [`Channel::try_with`](crate::Channel::try_with)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParamValue(String);

impl ParamValue {
    /// Checks a value.
    ///
    /// # Errors
    /// [`PatternError::InvalidValue`] for an empty or too long value or one with another character.
    pub fn new(value: impl Into<String>) -> Result<Self, PatternError> {
        let value = value.into();
        if value.is_empty() || value.len() > MAX_PARAM_LEN || !value.chars().all(is_param_char) {
            return Err(PatternError::InvalidValue(value));
        }
        Ok(Self(value))
    }

    /// The value.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One value that is always a valid parameter: integers, UUIDs, [`ParamValue`].
pub trait PatternArg {
    /// The value as a checked parameter.
    fn into_param(self) -> ParamValue;
}

/// The values given to [`Channel::with`](crate::Channel::with): one [`PatternArg`] for a pattern
/// with one parameter, a tuple of up to four for more, in the order of the pattern.
pub trait PatternArgs {
    /// The values, in order.
    fn into_params(self) -> Vec<ParamValue>;
}

macro_rules! integer_args {
    ($($t:ty),*) => {$(
        impl PatternArg for $t {
            fn into_param(self) -> ParamValue {
                ParamValue(self.to_string())
            }
        }
        impl PatternArgs for $t {
            fn into_params(self) -> Vec<ParamValue> {
                vec![self.into_param()]
            }
        }
    )*};
}
integer_args!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    uuid::Uuid,
    ParamValue
);

impl PatternArg for &ParamValue {
    fn into_param(self) -> ParamValue {
        self.clone()
    }
}

impl PatternArgs for &ParamValue {
    fn into_params(self) -> Vec<ParamValue> {
        vec![self.clone()]
    }
}

macro_rules! tuple_args {
    ($(($($name:ident),+)),*) => {$(
        impl<$($name: PatternArg),+> PatternArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_params(self) -> Vec<ParamValue> {
                let ($($name,)+) = self;
                vec![$($name.into_param()),+]
            }
        }
    )*};
}
tuple_args!((A), (A, B), (A, B, C), (A, B, C, D));

/// A concrete channel name, made from a pattern by [`Channel::with`](crate::Channel::with) (or a
/// fixed channel's own name). It stands wherever a channel is taken: `publish(name, …)`,
/// `#[instant::event(channel = ORDER.with(order.id), …)]`, `instant::middleware::join`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelName(String);

impl ChannelName {
    pub(crate) fn new_unchecked(name: String) -> Self {
        Self(name)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a `String`.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for ChannelName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ChannelName> for String {
    fn from(name: ChannelName) -> Self {
        name.0
    }
}

impl From<&ChannelName> for String {
    fn from(name: &ChannelName) -> Self {
        name.0.clone()
    }
}

/// The parameters read from a concrete name by [`ChannelSet::resolve`](crate::ChannelSet::resolve):
/// `params.get("id")`, `params.parse::<u64>("id")`. Empty for a fixed channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params {
    name: String,
    values: Vec<(String, String)>,
}

impl Params {
    /// The parameters of a fixed channel: none.
    pub(crate) fn fixed(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            values: Vec::new(),
        }
    }

    /// The concrete channel name the parameters were read from.
    #[must_use]
    pub fn channel_name(&self) -> &str {
        &self.name
    }

    /// The value of parameter `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of parameter `name` parsed as a `T` (`None` when absent or unparsable).
    #[must_use]
    pub fn parse<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.get(name)?.parse().ok()
    }

    /// Every parameter as `(name, value)`, in the pattern's order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many parameters there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none (a fixed channel).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Fills a template's parameters with `values`, in order.
pub(crate) fn fill(template: &str, values: &[ParamValue]) -> Result<String, PatternError> {
    let segments = segments(template).unwrap_or_else(|_| vec![Segment::Literal(template)]);
    let expected = segments
        .iter()
        .filter(|s| matches!(s, Segment::Param(_)))
        .count();
    if expected != values.len() {
        return Err(PatternError::WrongArity {
            pattern: template.to_owned(),
            expected,
            given: values.len(),
        });
    }
    let mut values = values.iter();
    let mut name = String::with_capacity(template.len() + 8);
    for segment in segments {
        match segment {
            Segment::Literal(text) => name.push_str(text),
            Segment::Param(_) => name.push_str(values.next().map_or("", ParamValue::as_str)),
        }
    }
    Ok(name)
}

/// Reads `name` against a template: the parameters when it matches.
pub(crate) fn read(template: &str, name: &str) -> Option<Params> {
    let Ok(segments) = segments(template) else {
        return None;
    };
    let mut rest = name;
    let mut values = Vec::new();
    for segment in segments {
        match segment {
            Segment::Literal(text) => rest = rest.strip_prefix(text)?,
            Segment::Param(param) => {
                let end = rest.find(|c| !is_param_char(c)).unwrap_or(rest.len());
                if end == 0 || end > MAX_PARAM_LEN {
                    return None;
                }
                values.push((param.to_owned(), rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then(|| Params {
        name: name.to_owned(),
        values,
    })
}

/// One step of a template read as an automaton: a literal character, or one value character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Char(char),
    Value,
}

/// The steps of a template; a parameter is one `Value` step that may repeat.
fn steps(template: &str) -> Vec<(Step, bool)> {
    let segments = segments(template).unwrap_or_else(|_| vec![Segment::Literal(template)]);
    let mut steps = Vec::new();
    for segment in segments {
        match segment {
            Segment::Literal(text) => steps.extend(text.chars().map(|c| (Step::Char(c), false))),
            Segment::Param(_) => steps.push((Step::Value, true)),
        }
    }
    steps
}

/// A character both steps accept, if any.
fn common(a: Step, b: Step) -> Option<char> {
    match (a, b) {
        (Step::Char(x), Step::Char(y)) => (x == y).then_some(x),
        (Step::Char(c), Step::Value) | (Step::Value, Step::Char(c)) => {
            is_param_char(c).then_some(c)
        }
        (Step::Value, Step::Value) => Some('0'),
    }
}

/// A concrete name that both declared names accept, if there is one: two fixed names that are
/// equal, a fixed name a pattern makes, or two patterns that make a common name.
///
/// Exact: the product of the two templates' automata is searched for a common word (the
/// length bound of channel names aside).
#[must_use]
pub fn overlap(a: &str, b: &str) -> Option<String> {
    let (sa, sb) = (steps(a), steps(b));
    // State: (i, j, i_inside, j_inside): positions in each template; `inside` when the step at
    // that position is a value already given one character (so it may end or repeat).
    type State = (usize, usize, bool, bool);
    let start: State = (0, 0, false, false);
    let mut seen = std::collections::HashMap::<State, Option<(State, char)>>::new();
    seen.insert(start, None);
    let mut queue = std::collections::VecDeque::from([start]);
    // Moves of one side: (next position, inside flag, step consumed).
    let moves = |steps: &[(Step, bool)], i: usize, inside: bool| -> Vec<(usize, bool, Step)> {
        let mut out = Vec::new();
        if inside {
            // Repeat the value, or leave it and take the next step.
            out.push((i, true, Step::Value));
            if let Some((step, repeats)) = steps.get(i + 1) {
                out.push((i + 1, *repeats, *step));
            }
        } else if let Some((step, repeats)) = steps.get(i) {
            out.push((i, *repeats, *step));
        }
        out
    };
    let done = |steps: &[(Step, bool)], i: usize, inside: bool| {
        if inside {
            i + 1 == steps.len()
        } else {
            i == steps.len()
        }
    };
    while let Some(state) = queue.pop_front() {
        let (i, j, ii, ji) = state;
        if done(&sa, i, ii) && done(&sb, j, ji) {
            let mut word = Vec::new();
            let mut at = state;
            while let Some(Some((previous, c))) = seen.get(&at) {
                word.push(*c);
                at = *previous;
            }
            return Some(word.into_iter().rev().collect());
        }
        for (ni, nii, step_a) in moves(&sa, i, ii) {
            // A non-repeating step is passed once consumed.
            let (ni, nii) = if nii { (ni, true) } else { (ni + 1, false) };
            for (nj, nji, step_b) in moves(&sb, j, ji) {
                let (nj, nji) = if nji { (nj, true) } else { (nj + 1, false) };
                if let Some(c) = common(step_a, step_b) {
                    let next = (ni, nj, nii, nji);
                    if let std::collections::hash_map::Entry::Vacant(entry) = seen.entry(next) {
                        entry.insert(Some((state, c)));
                        queue.push_back(next);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_split_and_checked() {
        assert_eq!(
            segments("$board_{team}_{board}").unwrap(),
            [
                Segment::Literal("$board_"),
                Segment::Param("team"),
                Segment::Literal("_"),
                Segment::Param("board")
            ]
        );
        for bad in [
            "$a_{}",
            "$a_{1x}",
            "$a_{x",
            "$a_x}",
            "$a_{x}{y}",
            "$a_{x}-{y}",
            "$a_{x}y",
            "$a_{x}_{x}",
            "$a_{x{y}}",
        ] {
            assert!(segments(bad).is_err(), "{bad}");
        }
        let long = format!("${}_{{a}}_{{b}}_{{c}}_{{d}}", "x".repeat(10));
        assert!(segments(&long).unwrap_err().contains("longest name"));
    }

    #[test]
    fn names_are_made_and_read_back() {
        let name = fill(
            "$board_{team}_{board}",
            &[ParamValue::new("a-1").unwrap(), 7.into_param()],
        )
        .unwrap();
        assert_eq!(name, "$board_a-1_7");
        let params = read("$board_{team}_{board}", &name).unwrap();
        assert_eq!(params.get("team"), Some("a-1"));
        assert_eq!(params.parse::<u32>("board"), Some(7));
        assert_eq!(params.channel_name(), name);
        assert!(read("$board_{team}_{board}", "$board_a_b_c").is_none());
        assert!(read("$board_{team}_{board}", "$board__7").is_none());
        assert!(read("$order_{id}", "$order_").is_none());
        assert!(read("$order_{id}", "$order_{id}").is_none());
        assert!(matches!(
            fill("$order_{id}", &[]),
            Err(PatternError::WrongArity {
                expected: 1,
                given: 0,
                ..
            })
        ));
        assert!(ParamValue::new("a_b").is_err());
        assert!(ParamValue::new("").is_err());
        assert!(ParamValue::new("x".repeat(65)).is_err());
        assert!(ParamValue::new("é").is_err());
    }

    #[test]
    fn overlaps_are_found_with_an_example() {
        assert_eq!(overlap("news", "news").as_deref(), Some("news"));
        assert_eq!(overlap("news", "new").as_deref(), None);
        assert_eq!(
            overlap("$order_{id}", "$order_new").as_deref(),
            Some("$order_new")
        );
        assert_eq!(
            overlap("$order_{id}", "$order_{x}").as_deref(),
            Some("$order_0")
        );
        assert_eq!(overlap("$order_{id}", "$orders_{id}"), None);
        assert_eq!(overlap("$order_{id}", "$order_{id}_x"), None);
        assert_eq!(overlap("$a_{x}_b", "$a_c_{y}").as_deref(), Some("$a_c_b"));
        assert_eq!(overlap("$a_{x}.b", "$a_{y}"), None);
        assert!(overlap("$board_{team}_{board}", "$board_{all}").is_none());
        assert!(overlap("$u.{id}:x", "$u.{id}").is_none());
    }
}
