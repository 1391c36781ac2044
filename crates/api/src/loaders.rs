//! Data loaders: nested fields of one response collect their keys and load them in one store
//! query per kind, so a page of 100 credit records with their projects costs two queries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use carbonmesh_model::{AlertEvent, CreditRecord, Project, RegistryId};
use carbonmesh_store::{ProjectRollup, Store, StoreError};

/// Credit records a project's `creditRecords` field may show.
pub const CREDITS_PER_PROJECT: u32 = 100;

/// Shared store handle of the loaders.
#[derive(Clone)]
pub struct StoreRef(pub Arc<dyn Store>);

/// Projects by id.
pub struct ProjectLoader(pub StoreRef);
/// Credit records by (registry, key).
pub struct CreditLoader(pub StoreRef);
/// A project's first credit records, by project id.
pub struct ProjectCreditsLoader(pub StoreRef);
/// Alert histories, by alert id.
pub struct AlertHistoryLoader(pub StoreRef);
/// Project roll-ups, by project id.
pub struct RollupLoader(pub StoreRef);

/// Why a loader failed: a store error, shared between the fields waiting on it.
pub type LoadError = Arc<StoreError>;

impl Loader<String> for ProjectLoader {
    type Value = Project;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Project>, LoadError> {
        let projects = self.0.0.projects_by_ids(ids).await.map_err(Arc::new)?;
        Ok(projects.into_iter().map(|p| (p.id(), p)).collect())
    }
}

impl Loader<(RegistryId, String)> for CreditLoader {
    type Value = CreditRecord;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(RegistryId, String)],
    ) -> Result<HashMap<(RegistryId, String), CreditRecord>, LoadError> {
        let credits = self.0.0.credits_by_keys(keys).await.map_err(Arc::new)?;
        Ok(credits
            .into_iter()
            .map(|c| ((c.registry, c.record_key.clone()), c))
            .collect())
    }
}

impl Loader<String> for ProjectCreditsLoader {
    type Value = Vec<CreditRecord>;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<CreditRecord>>, LoadError> {
        let credits = self
            .0
            .0
            .credits_of_projects(ids, CREDITS_PER_PROJECT)
            .await
            .map_err(Arc::new)?;
        let mut out: HashMap<String, Vec<CreditRecord>> = HashMap::new();
        for c in credits {
            out.entry(c.project_id()).or_default().push(c);
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| (a.registry, &a.record_key).cmp(&(b.registry, &b.record_key)));
        }
        Ok(out)
    }
}

impl Loader<String> for AlertHistoryLoader {
    type Value = Vec<AlertEvent>;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<AlertEvent>>, LoadError> {
        let events = self.0.0.alert_events_of(ids).await.map_err(Arc::new)?;
        let mut out: HashMap<String, Vec<AlertEvent>> = HashMap::new();
        for e in events {
            out.entry(e.alert_id.clone()).or_default().push(e);
        }
        Ok(out)
    }
}

impl Loader<String> for RollupLoader {
    type Value = ProjectRollup;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, ProjectRollup>, LoadError> {
        let rollups = self.0.0.project_rollups(ids).await.map_err(Arc::new)?;
        Ok(rollups
            .into_iter()
            .map(|r| (r.project_id.clone(), r))
            .collect())
    }
}

/// The loaders of one request: a fresh set per request, so nothing is cached across users.
pub fn for_request(store: &Arc<dyn Store>) -> Loaders {
    let s = StoreRef(store.clone());
    Loaders {
        projects: DataLoader::new(ProjectLoader(s.clone()), tokio::spawn),
        credits: DataLoader::new(CreditLoader(s.clone()), tokio::spawn),
        project_credits: DataLoader::new(ProjectCreditsLoader(s.clone()), tokio::spawn),
        alert_history: DataLoader::new(AlertHistoryLoader(s.clone()), tokio::spawn),
        rollups: DataLoader::new(RollupLoader(s), tokio::spawn),
    }
}

/// One request's loaders.
pub struct Loaders {
    /// Projects.
    pub projects: DataLoader<ProjectLoader>,
    /// Credit records.
    pub credits: DataLoader<CreditLoader>,
    /// Project credit records.
    pub project_credits: DataLoader<ProjectCreditsLoader>,
    /// Alert histories.
    pub alert_history: DataLoader<AlertHistoryLoader>,
    /// Project roll-ups.
    pub rollups: DataLoader<RollupLoader>,
}
