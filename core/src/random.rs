//! Server-generated identifiers and secrets.

/// A server-generated secret or identifier: 32 letters and digits (190
/// random bits from the operating system). Letters and digits only:
/// nothing to percent-encode, and never a leading `-` that a command line
/// would take for an option.
pub fn random_token() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut token = String::with_capacity(32);
    let mut bytes = [0u8; 48];
    while token.len() < 32 {
        // getrandom fails only when the OS has no entropy source at all; a
        // server that cannot make secrets must not make guessable ones.
        getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
        // 248 = 4 * 62: a byte below it maps to a letter without bias.
        for &byte in bytes.iter().filter(|&&b| b < 248) {
            if token.len() == 32 {
                break;
            }
            token.push(char::from(ALPHABET[usize::from(byte % 62)]));
        }
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_32_letters_and_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }
}
