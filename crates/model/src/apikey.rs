//! API keys and the roles they grant. Only a key's sha256 is stored; the token itself is
//! shown once, when the key is created.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

vocabulary_enum! {
    /// What an API key may do. Each role includes the ones before it.
    ApiRole {
        /// Read the harmonized view and the alerts.
        Observer => "observer",
        /// Also work alerts through the review workflow.
        Reviewer => "reviewer",
        /// Also trigger syncs, manage keys and read the operators' views.
        Admin => "admin",
    }
}

impl ApiRole {
    /// Whether this role includes `needed`.
    pub fn allows(self, needed: ApiRole) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for ApiRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiRole::from_name(s)
            .ok_or_else(|| format!("unknown role `{s}`: observer, reviewer or admin"))
    }
}

/// An API key as stored (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// Who or what uses it; mutations are recorded under this name.
    pub name: String,
    /// The role it grants.
    pub role: ApiRole,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_lesser_ones() {
        assert!(ApiRole::Admin.allows(ApiRole::Reviewer));
        assert!(ApiRole::Reviewer.allows(ApiRole::Observer));
        assert!(!ApiRole::Observer.allows(ApiRole::Reviewer));
        assert!(!ApiRole::Reviewer.allows(ApiRole::Admin));
        assert_eq!("reviewer".parse::<ApiRole>(), Ok(ApiRole::Reviewer));
        assert!("root".parse::<ApiRole>().is_err());
    }
}
