//! Whether an account's stored hash is a given password's, decided here from the hash
//! alone (issue 21): the password never goes into a query, and no login or scratch
//! account is needed to find out. Each server stores what its authentication plugin
//! made of the password:
//!
//! - `mysql_native_password` (MariaDB's default, MySQL ≤ 8.4's optional plugin):
//!   `*` + upper-case hex of SHA1(SHA1(password)), unsalted.
//! - `caching_sha2_password` (MySQL 8.0+'s default): `$A$` + three hex digits (rounds
//!   in thousands: `005` on 8.0, `00A` on 9.x, whose `caching_sha2_password_digest_rounds`
//!   is 10000) + `$` + a 20-byte salt + 43 characters of the SHA-256 crypt
//!   digest (Ulrich Drepper's "Unix crypt using SHA-256", the algorithm of glibc's
//!   `$5$`, with MySQL's 20-byte salt instead of crypt's 16). MySQL's
//!   `sql/auth/sha2_password.cc` (`Caching_sha2_password::serialize_string`) and
//!   `mysys/crypt_genhash_impl.cc` (`my_crypt_genhash`).
//!
//! Any other plugin (ed25519, sha256_password, auth_socket, …) cannot be compared here:
//! [`Dialect::stored_password_matches`] says what each flavor makes of that.

use super::Dialect;
use crate::inventory::ServerFamily;

impl Dialect {
    /// Does the stored hash (`plugin`, hex `auth`, as [`Dialect::account_auth_sql`]
    /// reads them) belong to `password`? `None`: this plugin's hash cannot be compared
    /// here (MySQL: the caller logs in with the password instead). MariaDB answers
    /// `false` for a plugin other than `mysql_native_password`, as its own
    /// `authentication_string = PASSWORD(pw)` comparison did: the account gets the
    /// inventory's password (and MariaDB's default plugin) again.
    pub fn stored_password_matches(
        &self,
        plugin: &str,
        auth_hex: &str,
        password: &str,
    ) -> Option<bool> {
        let stored = decode_hex(auth_hex)?;
        match plugin {
            "" | "mysql_native_password" => Some(native_hash(password) == stored),
            "caching_sha2_password" => caching_sha2_matches(&stored, password),
            _ => match self.family() {
                ServerFamily::Mariadb => Some(false),
                ServerFamily::Mysql => None,
            },
        }
    }
}

/// `mysql_native_password`'s stored text: `*` + SHA1(SHA1(pw)) in upper-case hex.
pub(crate) fn native_hash(password: &str) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    let twice = Sha1::digest(Sha1::digest(password.as_bytes()));
    std::iter::once("*".to_string())
        .chain(twice.iter().map(|b| format!("{b:02X}")))
        .collect::<String>()
        .into_bytes()
}

/// `$A$` + rounds (3 hex digits, thousands) + `$` + salt (20) + digest (43); `None` when
/// the text is not of that shape.
fn caching_sha2_matches(stored: &[u8], password: &str) -> Option<bool> {
    const SALT: usize = 20;
    const DIGEST: usize = 43;
    let rest = stored.strip_prefix(b"$A$")?;
    let (count, rest) = (rest.get(..3)?, rest.get(3..)?);
    let rest = rest.strip_prefix(b"$")?;
    if rest.len() != SALT + DIGEST || !count.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let rounds = usize::from_str_radix(std::str::from_utf8(count).ok()?, 16).ok()? * 1000;
    let (salt, digest) = rest.split_at(SALT);
    Some(sha256_crypt(password.as_bytes(), salt, rounds).as_bytes() == digest)
}

/// The SHA-256 crypt digest (43 characters of crypt's base 64), salt used whole.
fn sha256_crypt(password: &[u8], salt: &[u8], rounds: usize) -> String {
    use sha2::{Digest, Sha256};
    let p = password;
    let b = Sha256::new()
        .chain_update(p)
        .chain_update(salt)
        .chain_update(p)
        .finalize();
    let mut a = Sha256::new().chain_update(p).chain_update(salt);
    let mut n = p.len();
    while n > 32 {
        a.update(b);
        n -= 32;
    }
    a.update(&b[..n]);
    let mut bits = p.len();
    while bits > 0 {
        if bits & 1 == 1 {
            a.update(b);
        } else {
            a.update(p);
        }
        bits >>= 1;
    }
    let a = a.finalize();
    let mut dp = Sha256::new();
    for _ in 0..p.len() {
        dp.update(p);
    }
    let p_seq = repeat_to(&dp.finalize(), p.len());
    let mut ds = Sha256::new();
    for _ in 0..16 + a[0] as usize {
        ds.update(salt);
    }
    let s_seq = repeat_to(&ds.finalize(), salt.len());
    let mut c = a;
    for i in 0..rounds {
        let mut h = Sha256::new();
        if i % 2 == 1 {
            h.update(&p_seq);
        } else {
            h.update(c);
        }
        if i % 3 != 0 {
            h.update(&s_seq);
        }
        if i % 7 != 0 {
            h.update(&p_seq);
        }
        if i % 2 == 1 {
            h.update(c);
        } else {
            h.update(&p_seq);
        }
        c = h.finalize();
    }
    let mut out = String::with_capacity(43);
    for i in 0..10 {
        // The spec's byte order: (0, 10, 20), (21, 1, 11), (12, 22, 2), ...
        let [x, y, z] = [(i * 21) % 30, (i * 21 + 10) % 30, (i * 21 + 20) % 30];
        push_b64(&mut out, c[x], c[y], c[z], 4);
    }
    push_b64(&mut out, 0, c[31], c[30], 3);
    out
}

/// `digest` repeated and cut to `len` bytes.
fn repeat_to(digest: &[u8], len: usize) -> Vec<u8> {
    digest.iter().copied().cycle().take(len).collect()
}

/// crypt's base 64: `n` characters of the 24-bit group, least significant first.
fn push_b64(out: &mut String, b2: u8, b1: u8, b0: u8, n: usize) {
    const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..n {
        out.push(ALPHABET[(w & 0x3f) as usize] as char);
        w >>= 6;
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &[u8]) -> String {
        s.iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn sha256_crypt_is_drepper_s() {
        // The specification's first test vector (rounds 5000, the default).
        assert_eq!(
            sha256_crypt(b"Hello world!", b"saltstring", 5000),
            "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
        // A password longer than a digest, and another rounds count.
        assert_eq!(
            sha256_crypt(
                b"we have a short salt string but not a short password",
                b"short",
                77777
            ),
            "JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"
        );
    }

    #[test]
    fn native_hashes_compare_on_both_flavors() {
        let stored = hex(b"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"); // PASSWORD('password')
        for v in ["10.11.6-MariaDB", "8.4.3"] {
            let d = Dialect::from_version_string(v).unwrap();
            assert_eq!(
                d.stored_password_matches("mysql_native_password", &stored, "password"),
                Some(true)
            );
            assert_eq!(
                d.stored_password_matches("mysql_native_password", &stored, "Password"),
                Some(false)
            );
        }
        let maria = Dialect::from_version_string("10.11.6-MariaDB").unwrap();
        assert_eq!(
            maria.stored_password_matches("", &stored, "password"),
            Some(true)
        );
        assert_eq!(
            maria.stored_password_matches("ed25519", &stored, "password"),
            Some(false)
        );
        let mysql = Dialect::from_version_string("9.7.0").unwrap();
        assert_eq!(
            mysql.stored_password_matches("auth_socket", "", "password"),
            None
        );
    }

    #[test]
    fn caching_sha2_hashes_compare_and_other_shapes_are_unknown() {
        // MySQL 9.7 on the lab: CREATE USER ... IDENTIFIED BY 'repl-Pa55word' and
        // SELECT HEX(authentication_string): `$A$00A$`, 10000 rounds.
        let stored = LAB_CACHING_SHA2;
        let d = Dialect::from_version_string("9.7.0").unwrap();
        assert_eq!(
            d.stored_password_matches("caching_sha2_password", stored, "repl-Pa55word"),
            Some(true)
        );
        assert_eq!(
            d.stored_password_matches("caching_sha2_password", stored, "repl-Pa55wore"),
            Some(false)
        );
        // Not of the `$A$005$` shape: cannot tell.
        assert_eq!(
            d.stored_password_matches("caching_sha2_password", &hex(b"$A$005$short"), "x"),
            None
        );
        assert_eq!(
            d.stored_password_matches("caching_sha2_password", "4", "x"),
            None
        );
    }

    const LAB_CACHING_SHA2: &str = "2441243030412471090F522C7A29060F2B683A301F01350B2E371A786A6E6C786D576F4B653345733442375632756679734A5056687163396E69442F507830796B2F54426B42";
}
