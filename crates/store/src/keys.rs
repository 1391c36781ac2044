//! API keys. Only the sha256 (hex) of a token is kept, never the token: a token is shown once,
//! when its key is created, and a request's token is looked up by its hash.

use async_trait::async_trait;
use carbonmesh_model::{ApiKey, ApiRole};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{KeyStore, StoreError, StoreResult};

const INSERT_API_KEY: &str = "INSERT INTO api_keys (id, name, role, prefix, token_sha256, \
     created_by, created_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const KEY_COLUMNS: &str =
    "id, name, role, prefix, created_by, created_at, revoked_at, last_used_at";

const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

const TOUCH_API_KEY: &str = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";

fn key_from_row(row: &Row) -> StoreResult<ApiKey> {
    let role = row.text(2)?;
    Ok(ApiKey {
        id: row.text(0)?,
        name: row.text(1)?,
        role: ApiRole::from_name(&role).ok_or_else(|| StoreError::Corrupt {
            column: "api_keys.role",
            value: role.clone(),
        })?,
        prefix: row.text(3)?,
        created_by: row.text(4)?,
        created_at: row.time(5)?,
        revoked_at: row.opt_time(6)?,
        last_used_at: row.opt_time(7)?,
    })
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn insert_api_key(&self, key: &ApiKey, sha256_hex: &str) -> StoreResult<()> {
        self.db
            .execute(
                INSERT_API_KEY,
                vec![
                    key.id.as_str().into(),
                    key.name.as_str().into(),
                    key.role.as_str().into(),
                    key.prefix.as_str().into(),
                    sha256_hex.into(),
                    key.created_by.as_str().into(),
                    Arg::time(key.created_at),
                    Arg::Time(key.revoked_at),
                    Arg::Time(key.last_used_at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn api_key_by_hash(&self, sha256_hex: &str) -> StoreResult<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE token_sha256 = $1");
        let row = self
            .db
            .fetch_optional(&sql, vec![sha256_hex.into()])
            .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row = self.db.fetch_optional(&sql, vec![id.into()]).await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
        let rows = self.db.fetch(&sql, Vec::new()).await?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(self
            .db
            .execute(REVOKE_API_KEY, vec![id.into(), Arg::time(at)])
            .await?
            == 1)
    }

    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.db
            .execute(TOUCH_API_KEY, vec![id.into(), Arg::time(at)])
            .await?;
        Ok(())
    }
}
