//! The GraphQL API as `carbonmesh serve` mounts it, with `triggerSync` starting a run of a
//! configured connector in the background.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use carbonmesh_api::{ApiConfig, ConnectorSchedule, SyncTrigger};
use carbonmesh_connector::Connector;
use carbonmesh_ingest::Schedule;
use carbonmesh_matcher::MatchSession;
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};

/// Starts connector runs asked for through the API, one at a time per connector.
pub struct ConnectorSync {
    store: Arc<dyn Store>,
    matcher: MatchSession,
    connectors: BTreeMap<String, Arc<dyn Connector>>,
    schedules: Vec<(String, Schedule)>,
    running: Arc<Mutex<HashSet<String>>>,
}

impl ConnectorSync {
    /// Runs of `connectors` (by registry id, with their schedules) into `store`.
    pub fn new(
        store: Arc<dyn Store>,
        matcher: MatchSession,
        connectors: Vec<(Arc<dyn Connector>, Schedule)>,
    ) -> ConnectorSync {
        ConnectorSync {
            store,
            matcher,
            schedules: connectors
                .iter()
                .map(|(c, s)| (c.registry().as_str().to_owned(), s.clone()))
                .collect(),
            connectors: connectors
                .into_iter()
                .map(|(c, _)| (c.registry().as_str().to_owned(), c))
                .collect(),
            running: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl SyncTrigger for ConnectorSync {
    fn schedules(&self, now: DateTime<Utc>) -> Vec<ConnectorSchedule> {
        self.schedules
            .iter()
            .map(|(connector, schedule)| ConnectorSchedule {
                connector: connector.clone(),
                expression: schedule.expression().to_owned(),
                next_run: schedule.next_after(now),
            })
            .collect()
    }

    async fn trigger(&self, connector: &str, actor: &str) -> Result<(), String> {
        let Some(c) = self.connectors.get(connector).cloned() else {
            let known: Vec<&str> = self.connectors.keys().map(String::as_str).collect();
            return Err(format!(
                "no connector `{connector}` runs here; configured: {}",
                known.join(", ")
            ));
        };
        {
            let mut running = self
                .running
                .lock()
                .map_err(|_| "internal error".to_owned())?;
            if !running.insert(connector.to_owned()) {
                return Err(format!("a run of {connector} started here is still going"));
            }
        }
        let store = self.store.clone();
        let matcher = self.matcher.clone();
        let running = self.running.clone();
        let name = connector.to_owned();
        let trigger = format!("api:{actor}");
        tokio::spawn(async move {
            match carbonmesh_ingest::sync(store.as_ref(), &matcher, c.as_ref(), &trigger, |_| {})
                .await
            {
                Ok(outcome) => tracing::info!(
                    connector = %name,
                    run = outcome.run_id,
                    status = %outcome.status,
                    "run triggered through the API finished"
                ),
                Err(error) => tracing::error!(connector = %name, %error, "triggered run failed"),
            }
            if let Ok(mut r) = running.lock() {
                r.remove(&name);
            }
        });
        Ok(())
    }
}

/// The GraphQL routes over `store`.
pub fn routes(
    config: &ApiConfig,
    store: Arc<dyn Store>,
    matcher: MatchSession,
    connectors: Vec<(Arc<dyn Connector>, Schedule)>,
) -> axum::Router {
    let sync: Arc<dyn SyncTrigger> =
        Arc::new(ConnectorSync::new(store.clone(), matcher, connectors));
    let schema = carbonmesh_api::schema(config, store.clone(), Some(sync));
    carbonmesh_api::router(schema, store, config.clone())
}
