//! The `mysql` crate's errors said the way the `mysql` client says them: its own Display
//! wraps each in Rust names (`MySqlError { ERROR 1045 ... }`, `DriverError { ... }`)
//! and, as the error's source, prints the same text again under an anyhow chain.
//! [`SqlError`] keeps the error (for its number, [`crate::sql::server_error_code`]) and
//! shows one plain sentence, with no source.

use std::fmt;

/// A `mysql` crate error with a plain message.
#[derive(Debug)]
pub struct SqlError(pub mysql::Error);

impl SqlError {
    /// The server's error (`ERROR 1045 (28000): ...`), if the server sent one.
    pub fn server(&self) -> Option<&mysql::MySqlError> {
        match &self.0 {
            mysql::Error::MySqlError(e) => Some(e),
            _ => None,
        }
    }
}

impl SqlError {
    /// The authentication plugin the server asked for that the `mysql` crate does not
    /// speak (`sha256_password`), if that is what failed the login.
    pub fn unknown_auth_plugin(&self) -> Option<&str> {
        match &self.0 {
            mysql::Error::DriverError(mysql::DriverError::UnknownAuthPlugin(name)) => Some(name),
            _ => None,
        }
    }
}

impl From<mysql::Error> for SqlError {
    fn from(e: mysql::Error) -> Self {
        SqlError(e)
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use mysql::DriverError;
        match &self.0 {
            mysql::Error::MySqlError(e) => {
                write!(f, "ERROR {} ({}): {}", e.code, e.state, e.message)
            }
            mysql::Error::DriverError(DriverError::CouldNotConnect(Some((addr, why, _)))) => {
                write!(f, "cannot connect to {addr}: {why}")
            }
            mysql::Error::DriverError(d) => write!(f, "{d}"),
            mysql::Error::IoError(e) => write!(f, "{e}"),
            mysql::Error::CodecError(e) => write!(f, "{e}"),
            mysql::Error::UrlError(e) => write!(f, "{e}"),
            mysql::Error::TlsError(e) => write!(f, "TLS: {e}"),
            other => write!(f, "{other}"),
        }
    }
}

// No source: the message above already says what the `mysql` error says.
impl std::error::Error for SqlError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A login the server switched to a plugin the crate does not speak (MySQL 9.x's
    /// decoy plugin for an account it does not have) is told apart from other errors.
    #[test]
    fn an_unknown_auth_plugin_is_named() {
        let decoy = SqlError(mysql::Error::DriverError(
            mysql::DriverError::UnknownAuthPlugin("sha256_password".into()),
        ));
        assert_eq!(decoy.unknown_auth_plugin(), Some("sha256_password"));
        let wrapped = anyhow::Error::new(decoy).context("node-a: cannot log in");
        assert_eq!(
            crate::sql::unknown_auth_plugin(&wrapped).as_deref(),
            Some("sha256_password")
        );
        let io = SqlError(mysql::Error::DriverError(
            mysql::DriverError::ConnectTimeout,
        ));
        assert_eq!(io.unknown_auth_plugin(), None);
    }

    #[test]
    fn server_and_driver_errors_read_like_the_mysql_client() {
        let denied = SqlError(mysql::Error::MySqlError(mysql::MySqlError {
            state: "28000".into(),
            message: "Access denied for user 'root'@'localhost'".into(),
            code: 1698,
        }));
        assert_eq!(
            denied.to_string(),
            "ERROR 1698 (28000): Access denied for user 'root'@'localhost'"
        );
        let err = anyhow::Error::new(denied).context("node-a: cannot log in");
        let text = format!("{err:#}");
        assert_eq!(
            text,
            "node-a: cannot log in: ERROR 1698 (28000): Access denied for user 'root'@'localhost'"
        );
        let refused = SqlError(mysql::Error::DriverError(
            mysql::DriverError::CouldNotConnect(Some((
                "10.0.0.11:3306".into(),
                "Connection refused (os error 111)".into(),
                std::io::ErrorKind::ConnectionRefused,
            ))),
        ));
        assert_eq!(
            refused.to_string(),
            "cannot connect to 10.0.0.11:3306: Connection refused (os error 111)"
        );
        for text in [format!("{err:#}"), refused.to_string()] {
            assert!(
                !text.contains("MySqlError") && !text.contains("DriverError"),
                "{text}"
            );
        }
    }
}
