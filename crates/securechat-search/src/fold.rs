//! Case folding for matching.
//!
//! One character folds to one character: lower-cased where the lower case
//! is a single character, kept as it is otherwise (`İ`, whose lower case is
//! two). Positions in folded text are therefore positions in the original,
//! which is what lets a snippet mark matches in the text as written.

/// `c` folded for matching.
pub fn fold_char(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `text` folded for matching, one character per character of `text`.
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_character_for_one() {
        assert_eq!(fold("DePLOY Ärger"), "deploy ärger");
        assert_eq!(fold("İSTANBUL").chars().count(), 8);
        assert_eq!(fold("频道"), "频道");
    }
}
