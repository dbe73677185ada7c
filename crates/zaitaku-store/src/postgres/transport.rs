//! How the connection to PostgreSQL travels. Consents, records, password hashes
//! and TOTP secrets cross it, so a database on another machine is reached over
//! TLS only: `sslmode=require` (encrypted), `verify-ca` or `verify-full`
//! (encrypted, and the server's certificate checked against `sslrootcert`, or
//! the compiled-in public roots), all from the database URL. A database on this
//! machine (a Unix socket, `localhost`, 127.0.0.0/8, ::1) may be reached in
//! plaintext. Anything else is refused before connecting, unless
//! `ZAITAKU_DATABASE_ALLOW_PLAINTEXT=1` says plaintext is intended.

use crate::error::StoreError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// Set to `1` to allow plaintext to a database on another machine deliberately
/// (a private network you trust end to end).
pub const ALLOW_PLAINTEXT_VAR: &str = "ZAITAKU_DATABASE_ALLOW_PLAINTEXT";

/// Whether the environment allows plaintext to a remote database.
pub fn plaintext_allowed_by_env() -> bool {
    std::env::var(ALLOW_PLAINTEXT_VAR).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// Refuse a connection that could cross the network in plaintext.
pub fn check(options: &PgConnectOptions, allow_plaintext: bool) -> Result<(), StoreError> {
    let encrypted = matches!(
        options.get_ssl_mode(),
        PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull
    );
    if encrypted || allow_plaintext || options.get_socket().is_some() {
        return Ok(());
    }
    let host = options.get_host();
    if is_this_machine(host) {
        return Ok(());
    }
    Err(StoreError::Database(format!(
        "refusing to reach the database at {host} without TLS: add sslmode=require to the \
         database URL (or sslmode=verify-full&sslrootcert=/path/to/ca.pem to check the server's \
         certificate too), or set {ALLOW_PLAINTEXT_VAR}=1 if plaintext on this network is intended"
    )))
}

/// A Unix socket directory, `localhost`, 127.0.0.0/8 or ::1, parsed as addresses.
fn is_this_machine(host: &str) -> bool {
    host.starts_with('/') || zaitaku_domain::is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn checked(url: &str, allow: bool) -> Result<(), StoreError> {
        check(&PgConnectOptions::from_str(url).unwrap(), allow)
    }

    #[test]
    fn a_remote_host_needs_tls_unless_plaintext_is_allowed() {
        for local in [
            "postgres://u@127.0.0.1/db",
            "postgres://u@127.10.0.3/db",
            "postgres://u@localhost/db",
            "postgres://u@[::1]:5432/db",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
        ] {
            assert!(checked(local, false).is_ok(), "{local}");
        }
        for remote in [
            "postgres://u@db.example.jp/db",
            "postgres://u@10.0.0.5/db",
            "postgres://u@127.example.jp/db",
            "postgres://u@[2001:db8::1]/db",
            "postgres://u@db.example.jp/db?sslmode=prefer",
            "postgres://u@db.example.jp/db?sslmode=disable",
        ] {
            let refused = checked(remote, false).expect_err(remote).to_string();
            assert!(refused.contains("sslmode=require"), "{refused}");
            assert!(refused.contains(ALLOW_PLAINTEXT_VAR), "{refused}");
            assert!(
                checked(remote, true).is_ok(),
                "allowed deliberately: {remote}"
            );
        }
        for tls in ["require", "verify-ca", "verify-full"] {
            let url = format!("postgres://u@db.example.jp/db?sslmode={tls}");
            assert!(checked(&url, false).is_ok(), "{url}");
        }
    }
}
