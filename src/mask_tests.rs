//! Unit tests of the secret masker: each file kind's syntax, and the diff pairing.

use super::*;

fn masked(kind: FileKind, text: &str) -> String {
    mask(kind, text)
}

#[test]
fn kinds_follow_the_path() {
    assert_eq!(
        FileKind::for_path("/etc/keepalived/keepalived.conf"),
        FileKind::Keepalived
    );
    assert_eq!(
        FileKind::for_path("/etc/keepalived/conf.d/vip.conf"),
        FileKind::Keepalived
    );
    assert_eq!(
        FileKind::for_path("/etc/keepalived/mhactl-check-mysql.sh"),
        FileKind::ShellScript
    );
    for p in [
        "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
        "/etc/my.cnf",
        "/etc/mysql/my.cnf",
        "/etc/mysql/debian.cnf",
        "/etc/mysql/debian.cnf.mhactl-old",
        "/root/.my.cnf",
        "/etc/yum.repos.d/mhactl.repo",
    ] {
        assert_eq!(FileKind::for_path(p), FileKind::OptionFile, "{p}");
    }
    assert_eq!(
        FileKind::for_path("/etc/apt/sources.list.d/mhactl.list"),
        FileKind::Other
    );
}

#[test]
fn keepalived_auth_pass() {
    let conf = "    authentication {\n        auth_type PASS\n        auth_pass d8ae7a1e\n    }\n\
                ! auth_pass oldpw12\n    auth_pass \"quoted\"\n";
    let out = masked(FileKind::Keepalived, conf);
    for secret in ["d8ae7a1e", "oldpw12", "quoted"] {
        assert!(!out.contains(secret), "{out}");
    }
    assert!(out.contains("auth_pass ***\n"), "{out}");
    assert!(out.contains("auth_pass \"***\""), "{out}");
    assert!(out.contains("auth_type PASS"), "{out}");
}

#[test]
fn option_file_passwords() {
    let cnf = "[client]\nuser = root\npassword = s3cret with space\n\
               loose-password=\"q'uo#ted\"\n#password=commented\nssl-key-password = kp\n\
               MASTER_PASSWORD=legacy\npassword\nsocket = /run/mysqld/mysqld.sock\n\
               init_connect = \"SET PASSWORD = 'inline'\"\n";
    let out = masked(FileKind::OptionFile, cnf);
    for secret in [
        "s3cret",
        "with space",
        "q'uo#ted",
        "commented",
        "kp\n",
        "legacy",
        "inline",
    ] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("password = ***\n"), "{out}");
    assert!(out.contains("loose-password=\"***\""), "{out}");
    // A bare `password` (prompt) and other keys are left alone.
    assert!(out.contains("\npassword\n"), "{out}");
    assert!(out.contains("socket = /run/mysqld/mysqld.sock"), "{out}");
}

#[test]
fn shell_script_credentials() {
    let sh = "out=$(mysql -uroot -pHunter2 -e 'SELECT 1')\n\
              mysqladmin --password=\"Pw two\" ping\n\
              MYSQL_PWD=envpw mysql -N\nexport DB_PASS='dbpass'\n\
              mkdir -p /run/x\nset -- --protocol=TCP --port=3306\n\
              mysql -e \"CREATE USER u IDENTIFIED BY 'sqlpw'\"\n";
    let out = masked(FileKind::ShellScript, sh);
    for secret in ["Hunter2", "Pw two", "envpw", "dbpass", "sqlpw"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("-p*** -e"), "{out}");
    assert!(out.contains("mkdir -p /run/x"), "{out}");
    assert!(out.contains("--protocol=TCP --port=3306"), "{out}");
}

#[test]
fn the_rendered_check_script_has_nothing_to_mask() {
    let script = include_str!("../templates/check-mysql.sh.tera");
    assert_eq!(masked(FileKind::ShellScript, script), script);
}

#[test]
fn sql_secrets_in_every_kind() {
    let sql = "CREATE USER 'repl'@'10.0.0.2' IDENTIFIED BY 'it\\'s'; \
               ALTER USER x IDENTIFIED WITH mysql_native_password AS '*ABCDEF'; \
               CHANGE MASTER TO MASTER_HOST='h', MASTER_USER='repl', MASTER_PASSWORD='mpw', MASTER_PORT=3306; \
               CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'spw'; \
               SET PASSWORD FOR 'a'@'b' = PASSWORD('old'); SET PASSWORD = 'new1'; \
               CREATE USER y IDENTIFIED VIA unix_socket";
    for kind in [
        FileKind::Other,
        FileKind::OptionFile,
        FileKind::ShellScript,
        FileKind::Keepalived,
    ] {
        let out = masked(kind, sql);
        for secret in ["it\\'s", "*ABCDEF", "mpw", "spw", "old", "new1"] {
            assert!(!out.contains(secret), "{kind:?}: {secret} in {out}");
        }
        assert!(out.contains("MASTER_USER='repl'"), "{out}");
        assert!(out.contains("IDENTIFIED VIA unix_socket"), "{out}");
        assert!(out.contains("MASTER_PORT=3306"), "{out}");
    }
}

#[test]
fn url_passwords() {
    let line = "deb [signed-by=/k.gpg] https://user:p%40ss@mirror.example/debian bookworm main\n";
    let out = masked(FileKind::Other, line);
    assert!(!out.contains("p%40ss"), "{out}");
    assert!(
        out.contains("https://user:***@mirror.example/debian"),
        "{out}"
    );
    let plain = "baseurl=https://mirror.example:8443/el9\n";
    assert_eq!(masked(FileKind::Other, plain), plain);
}

#[test]
fn a_changed_secret_still_shows_as_a_changed_line() {
    let old = "a\n        auth_pass oldsecret\nkeep auth_pass samepw\n";
    let new = "a\n        auth_pass newsecret\nkeep auth_pass samepw\n";
    let (l, r) = mask_pair(FileKind::Keepalived, old, new, ("old", "new"));
    assert_eq!(l, "a\n        auth_pass ***(old)\nkeep auth_pass ***\n");
    assert_eq!(r, "a\n        auth_pass ***(new)\nkeep auth_pass ***\n");
    // Masking again (the report's own redaction) keeps the labels.
    assert_eq!(mask(FileKind::Keepalived, &l), l);
}

#[test]
fn masking_is_idempotent_and_keeps_other_text() {
    let text = "[mysqld]\nserver_id = 1\npassword = x\n";
    let once = mask(FileKind::OptionFile, text);
    assert_eq!(once, "[mysqld]\nserver_id = 1\npassword = ***\n");
    assert_eq!(mask(FileKind::OptionFile, &once), once);
    assert_eq!(mask(FileKind::Other, "no secrets here"), "no secrets here");
}

#[test]
fn password_assignments_in_any_text() {
    let err = "mysqld: [ERROR] unknown variable 'password=Leak3d'. (using password: YES) x=1 db_pass=p2 MYSQL_PWD=p3\n";
    let out = masked(FileKind::Other, err);
    for secret in ["Leak3d", "p2", "p3"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("(using password: YES) x=1"), "{out}");
}

#[test]
fn a_replication_error_quoting_the_statement() {
    let err = "Error 'Operation CREATE USER failed for 'app'@'%'' on query. Default database: ''. \
               Query: 'CREATE USER 'app'@'%' IDENTIFIED BY 'S3cr3t-pw''";
    let out = mask(FileKind::Other, err);
    assert!(!out.contains("S3cr3t"), "{out}");
    assert!(out.contains("Operation CREATE USER failed"), "{out}");
    let maria = "Query: 'GRANT ALL ON *.* TO 'a'@'%' IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29''";
    let out = mask(FileKind::Other, maria);
    assert!(!out.contains("94BDCEBE"), "{out}");
}

/// Issue 19: mhactl no longer writes `auth_pass`, but the keepalived.conf an older
/// mhactl wrote (VRRPv2) still holds one, so the upgrade's diff removes a secret.
#[test]
fn a_removed_auth_pass_is_masked_in_the_upgrade_diff() {
    let old = "    advert_int 2\n    authentication {\n        auth_type PASS\n        \
               auth_pass Vr9pQ2xz\n    }\n    unicast_src_ip 10.0.0.1\n";
    let new = "    advert_int 2\n    ! No authentication block\n    unicast_src_ip 10.0.0.1\n";
    let diff = crate::engine::file_diff("/etc/keepalived/keepalived.conf", Some(old), new);
    assert!(!diff.contains("Vr9pQ2xz"), "{diff}");
    assert!(diff.contains("-        auth_pass ***(old)\n"), "{diff}");
    assert!(diff.contains("-        auth_type PASS\n"), "{diff}");
}
