//! `carbonmesh keys …`: API keys for the HTTP API. A key's token is printed once, when the
//! key is created; carbonmesh keeps only its sha256.

use std::io::Write;

use anyhow::Context;
use carbonmesh_model::{ApiKey, ApiRole};
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};
use clap::Subcommand;

/// `carbonmesh keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its token (shown this once: only its sha256 is stored)
    Create {
        /// Who or what will use the key; actions taken with it are recorded under this name
        #[arg(long)]
        name: String,
        /// observer (reads), reviewer (also reviews alerts) or admin (also manages keys and
        /// syncs)
        #[arg(long, value_parser = parse_role)]
        role: ApiRole,
        /// Who creates the key, recorded with it
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// List keys (never their tokens), revoked ones included
    List,
    /// Revoke a key: requests with its token are refused from now on
    Revoke {
        /// The key id, as `carbonmesh keys list` shows it
        id: String,
    },
}

fn parse_role(s: &str) -> Result<ApiRole, String> {
    s.parse()
}

/// Runs `carbonmesh keys …`, writing to `out`.
pub async fn run_keys(
    store: &dyn Store,
    command: KeysCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { name, role, actor } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 100,
                "--name must have 1 to 100 characters"
            );
            let (key, token) = carbonmesh_api::keys::create(store, name, role, &actor)
                .await
                .context("cannot create the API key")?;
            writeln!(
                out,
                "created API key {} for {} (role {})",
                key.id, key.name, key.role
            )?;
            writeln!(out, "{token}")?;
            writeln!(
                out,
                "This token is not stored (carbonmesh keeps only its sha256) and cannot be shown \
                 again: keep it now."
            )?;
        }
        KeysCommand::List => {
            let keys = store.api_keys().await.context("cannot list API keys")?;
            write_table(&keys, out)?;
        }
        KeysCommand::Revoke { id } => {
            let revoked = store
                .revoke_api_key(&id, Utc::now())
                .await
                .context("cannot revoke the API key")?;
            anyhow::ensure!(
                revoked,
                "no active API key {id} (unknown or already revoked)"
            );
            writeln!(out, "revoked API key {id}")?;
        }
    }
    Ok(())
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// The keys as an aligned table.
fn write_table(keys: &[ApiKey], out: &mut impl Write) -> std::io::Result<()> {
    const HEADER: [&str; 7] = [
        "ID",
        "NAME",
        "ROLE",
        "PREFIX",
        "CREATED",
        "LAST USED",
        "REVOKED",
    ];
    let rows: Vec<[String; 7]> = keys
        .iter()
        .map(|k| {
            [
                k.id.clone(),
                k.name.clone(),
                k.role.to_string(),
                k.prefix.clone(),
                time(Some(k.created_at)),
                time(k.last_used_at),
                time(k.revoked_at),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7], out: &mut dyn Write| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(HEADER, out)?;
    for row in &rows {
        line(row.each_ref().map(String::as_str), out)?;
    }
    if rows.is_empty() {
        writeln!(out, "(no API keys: create one with carbonmesh keys create)")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_list_as_an_aligned_table() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 30, 0)
            .single()
            .expect("date");
        let keys = vec![
            ApiKey {
                id: "key_1".into(),
                name: "exchange feed".into(),
                role: ApiRole::Observer,
                prefix: "cm_abcdefg".into(),
                created_by: "cli".into(),
                created_at: at,
                revoked_at: None,
                last_used_at: Some(at),
            },
            ApiKey {
                id: "key_22".into(),
                name: "ops".into(),
                role: ApiRole::Admin,
                prefix: "cm_hijklmn".into(),
                created_by: "cli".into(),
                created_at: at,
                revoked_at: Some(at),
                last_used_at: None,
            },
        ];
        let mut out = Vec::new();
        write_table(&keys, &mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "ID      NAME           ROLE      PREFIX      CREATED               LAST USED             REVOKED",
                "key_1   exchange feed  observer  cm_abcdefg  2026-11-02 09:30:00Z  2026-11-02 09:30:00Z  -",
                "key_22  ops            admin     cm_hijklmn  2026-11-02 09:30:00Z  -                     2026-11-02 09:30:00Z",
            ]
        );
    }
}
