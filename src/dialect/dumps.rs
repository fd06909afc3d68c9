//! Copying data with the flavor's dump tool: which option makes the dump record the
//! source's binary log position, and reading that position back out of the dump's
//! `CHANGE MASTER TO` / `CHANGE REPLICATION SOURCE TO` comment.

use super::Dialect;

impl Dialect {
    /// The dump option recording the binary log position as a comment: MySQL 8.0.26
    /// renamed `--master-data` to `--source-data` (and 8.4 deprecates the old name).
    pub fn dump_binlog_position_option(&self) -> &'static str {
        if self.v().mysql_at_least(8, 0, 26) {
            "--source-data=2"
        } else {
            "--master-data=2"
        }
    }
}

/// The binary log position a `--master-data=2` / `--source-data=2` dump recorded.
pub fn dump_coordinates(dump: &str) -> Option<(String, u64)> {
    let line = dump
        .lines()
        .take(200)
        .find(|l| l.contains("CHANGE MASTER TO") || l.contains("CHANGE REPLICATION SOURCE TO"))?;
    let value = |key: &str| -> Option<String> {
        let start = line.find(key)? + key.len();
        let rest = line[start..].trim_start_matches(['=', ' ', '\'']);
        Some(
            rest.chars()
                .take_while(|c| *c != '\'' && *c != ',' && *c != ';')
                .collect(),
        )
    };
    let file = value("_LOG_FILE")?;
    let pos = value("_LOG_POS")?.trim().parse().ok()?;
    Some((file, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn dump_position_option_boundary() {
        assert_eq!(d("8.0.25").dump_binlog_position_option(), "--master-data=2");
        assert_eq!(d("8.0.26").dump_binlog_position_option(), "--source-data=2");
        assert_eq!(d("8.4.2").dump_binlog_position_option(), "--source-data=2");
        assert_eq!(d("5.7.44").dump_binlog_position_option(), "--master-data=2");
        assert_eq!(
            d("11.8.3-MariaDB").dump_binlog_position_option(),
            "--master-data=2"
        );
    }

    #[test]
    fn reads_the_position_mariadb_dump_records() {
        let dump = "-- MariaDB dump 10.19\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n\
                    -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1234;\n\nCREATE DATABASE x;\n";
        assert_eq!(
            dump_coordinates(dump),
            Some(("mysql-bin.000002".into(), 1234))
        );
    }

    #[test]
    fn reads_the_position_mysql_8_dump_records() {
        let dump = "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=157;\n";
        assert_eq!(dump_coordinates(dump), Some(("binlog.000007".into(), 157)));
    }

    #[test]
    fn no_position_is_none() {
        assert_eq!(dump_coordinates("CREATE TABLE t (id INT);\n"), None);
    }
}
