//! Recovery codes: ten per account, each usable once, for signing in
//! without the authenticator. A code is ten characters from an alphabet
//! without look-alikes (about 50 bits), shown as `xxxxx-xxxxx`; what a
//! person types is normalized (case, spaces and dashes ignored) before it
//! is hashed and compared.

use zeroize::Zeroizing;

/// Codes issued at a time.
pub const COUNT: usize = 10;
/// Characters of a code, without the dash.
const LEN: usize = 10;
/// Lower-case letters and digits without `0 o 1 l i`.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Longest input looked at (a code with spaces or dashes around).
pub const MAX_INPUT: usize = 32;

/// A fresh set of codes, formatted for display.
pub fn generate() -> Vec<Zeroizing<String>> {
    (0..COUNT)
        .map(|_| {
            let mut code = Zeroizing::new(String::with_capacity(LEN + 1));
            for i in 0..LEN {
                if i == LEN / 2 {
                    code.push('-');
                }
                let index = rand::random_range(0..ALPHABET.len());
                code.push(char::from(ALPHABET[index]));
            }
            code
        })
        .collect()
}

/// The canonical form of a typed code, or `None` when it cannot be one.
pub fn normalize(input: &str) -> Option<Zeroizing<String>> {
    if input.len() > MAX_INPUT {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then(|| Zeroizing::new(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_normalize_and_differ() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), LEN + 1);
            assert_eq!(code.as_bytes()[5], b'-');
            let plain = normalize(code).unwrap();
            assert_eq!(*plain, code.replace('-', ""));
            assert_eq!(normalize(&code.to_uppercase()).unwrap(), plain);
            assert_eq!(
                normalize(&format!(" {} ", code.replace('-', " "))).unwrap(),
                plain
            );
        }
        let distinct: std::collections::HashSet<_> = codes.iter().map(|c| c.to_string()).collect();
        assert_eq!(distinct.len(), COUNT);
    }

    #[test]
    fn malformed_input_is_no_code() {
        assert!(normalize("").is_none());
        assert!(normalize("abcde-fghj").is_none());
        assert!(normalize("abcde-fghjk0").is_none());
        assert!(normalize("abcde-fghi1").is_none());
        assert!(normalize(&"a".repeat(40)).is_none());
    }
}
