//! .NET string semantics that ARM's string functions inherit: lengths, positions and counts are
//! in UTF-16 code units, and "ignore case" comparisons are ordinal, unit by unit
//! (<https://learn.microsoft.com/dotnet/api/system.string#remarks>).

/// The UTF-16 code units of `s`.
pub(super) fn units(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// The string of `units`; an error where a cut split a surrogate pair.
pub(super) fn string(units: &[u16]) -> Result<String, String> {
    String::from_utf16(units)
        .map_err(|_| "the result would split a character (a UTF-16 surrogate pair)".to_string())
}

/// The UTF-16 length of `s`.
pub(super) fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A code unit folded for ordinal case-insensitive comparison (its simple uppercase).
fn fold(unit: u16) -> u16 {
    let Some(c) = char::from_u32(u32::from(unit)) else {
        return unit;
    };
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u16::try_from(u32::from(u)).unwrap_or(unit),
        _ => unit,
    }
}

fn same(a: &[u16], b: &[u16], ignore_case: bool) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            if ignore_case {
                fold(*x) == fold(*y)
            } else {
                x == y
            }
        })
}

/// Where `needle` first occurs in `hay` (an empty needle occurs at 0).
pub(super) fn find(hay: &[u16], needle: &[u16], ignore_case: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len())
        .position(|w| same(w, needle, ignore_case))
}

/// Where `needle` last occurs in `hay` (an empty needle occurs at the end).
pub(super) fn rfind(hay: &[u16], needle: &[u16], ignore_case: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(hay.len());
    }
    hay.windows(needle.len())
        .rposition(|w| same(w, needle, ignore_case))
}

pub(super) fn starts_with(hay: &[u16], needle: &[u16], ignore_case: bool) -> bool {
    hay.get(..needle.len())
        .is_some_and(|head| same(head, needle, ignore_case))
}

pub(super) fn ends_with(hay: &[u16], needle: &[u16], ignore_case: bool) -> bool {
    hay.len()
        .checked_sub(needle.len())
        .and_then(|start| hay.get(start..))
        .is_some_and(|tail| same(tail, needle, ignore_case))
}
