//! The GraphQL endpoint on axum: `POST /graphql` (single or batched operations), `GET
//! /graphql` (queries only), subscriptions at `/graphql/ws` (GraphiQL is served by the console
//! crate, when `graphiql` is on).
//!
//! Hostile requests are refused before any database work: the body size while it is read,
//! the batch size and the caller's rate budget before parsing, aliases while parsing, depth
//! and complexity at validation, page sizes before a resolver queries.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, Data, ServerError, ServerResult, Variables};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use carbonmesh_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{Actor, AuthError, RateLimits};
use crate::error::code;
use crate::loaders;
use crate::mutation::{Mutation, SyncTrigger};
use crate::query::Query;
use crate::subscription::{PollInterval, Subscription};

/// The schema served.
pub type ApiSchema = async_graphql::Schema<Query, Mutation, Subscription>;

/// The `[api]` section of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Whether callers without a key may read (as observers).
    pub anonymous_read: bool,
    /// Whether the schema may be introspected.
    pub introspection: bool,
    /// Whether `/graphiql` is served (by the server, from the console crate).
    pub graphiql: bool,
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Largest query complexity (one per field; connections count their page size).
    pub max_complexity: usize,
    /// Most aliased fields in one operation.
    pub max_aliases: usize,
    /// Longest query text, in bytes (checked before parsing).
    pub max_query_bytes: usize,
    /// Most operations in one batch.
    pub max_batch: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests a second per API key (anonymous callers share one budget).
    pub rate_per_second: u32,
    /// Requests a key may make at once above its rate.
    pub rate_burst: u32,
    /// How often subscriptions poll the store, in milliseconds.
    pub subscription_poll_ms: u64,
    /// Expensive operations (statistics, totals) running at once on this instance; more
    /// wait for a slot.
    pub max_expensive_queries: usize,
    /// The longest an expensive operation may take, its wait for a slot included, in
    /// milliseconds; past it the caller gets `BUSY` (no slot) or `TIMEOUT`.
    pub expensive_query_ms: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            anonymous_read: true,
            introspection: true,
            graphiql: true,
            max_depth: 15,
            max_complexity: 10_000,
            max_aliases: 30,
            max_query_bytes: 32 * 1024,
            max_batch: 10,
            max_body_bytes: 256 * 1024,
            rate_per_second: 50,
            rate_burst: 100,
            subscription_poll_ms: 500,
            max_expensive_queries: 4,
            expensive_query_ms: 10_000,
        }
    }
}

/// Builds the schema with `config`'s limits over `store`; `sync` starts connector runs.
pub fn schema(
    config: &ApiConfig,
    store: Arc<dyn Store>,
    sync: Option<Arc<dyn SyncTrigger>>,
) -> ApiSchema {
    let mut builder = async_graphql::Schema::build(Query, Mutation, Subscription)
        .data(store)
        .data(PollInterval(Duration::from_millis(
            config.subscription_poll_ms.max(50),
        )))
        .data(Arc::new(crate::budget::Expensive::new(
            config.max_expensive_queries,
            Duration::from_millis(config.expensive_query_ms.max(1)),
        )))
        .extension(AliasLimit(config.max_aliases))
        .limit_depth(config.max_depth)
        .limit_recursive_depth(config.max_depth.max(8) * 2)
        .limit_complexity(config.max_complexity)
        .limit_directives(10);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(sync) = sync {
        builder = builder.data(sync);
    }
    builder.finish()
}

/// The schema in SDL, as `schema/carbonmesh.graphql` holds it.
pub fn sdl() -> String {
    async_graphql::Schema::build(Query, Mutation, Subscription)
        .finish()
        .sdl()
}

#[derive(Clone)]
struct Api {
    schema: ApiSchema,
    store: Arc<dyn Store>,
    /// When this process last wrote each key's use.
    uses: Arc<crate::keys::KeyUses>,
    config: Arc<ApiConfig>,
    limits: RateLimits,
    failures: crate::auth::AuthFailures,
}

/// The GraphQL routes, ready to merge into the server's router.
pub fn router(schema: ApiSchema, store: Arc<dyn Store>, config: ApiConfig) -> Router {
    let limits = RateLimits::new(
        NonZeroU32::new(config.rate_per_second).unwrap_or(NonZeroU32::MIN),
        NonZeroU32::new(config.rate_burst).unwrap_or(NonZeroU32::MIN),
    );
    let api = Api {
        schema,
        store,
        uses: Arc::default(),
        config: Arc::new(config),
        limits,
        failures: crate::auth::AuthFailures::new(),
    };
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .with_state(api)
}

/// A refusal to come back after `wait` (429), with `Retry-After` in whole seconds.
fn refuse_for(wait: std::time::Duration, message: &str) -> Response {
    let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, message);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(seconds.max(1)),
    );
    response
}

/// The client's address, when the server records it (`into_make_service_with_connect_info`).
type Client = Option<axum::Extension<ConnectInfo<SocketAddr>>>;

fn address(client: &Client) -> Option<IpAddr> {
    client
        .as_ref()
        .map(|axum::Extension(ConnectInfo(a))| a.ip())
}

/// A refusal before execution, in GraphQL's response shape.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
    }
    response
}

async fn caller(api: &Api, headers: &HeaderMap, from: Option<IpAddr>) -> Result<Actor, Response> {
    crate::auth::actor(
        api.store.as_ref(),
        &api.uses,
        headers,
        api.config.anonymous_read,
    )
    .await
    .map_err(|e| match e {
        AuthError::InvalidKey => match from.and_then(|ip| api.failures.failed(ip)) {
            Some(wait) => refuse_for(
                wait,
                "too many failed authentications from this address; wait before trying again",
            ),
            None => refuse(
                StatusCode::UNAUTHORIZED,
                code::UNAUTHENTICATED,
                "unknown or revoked API key",
            ),
        },
        AuthError::Store(error) => {
            tracing::error!(%error, "API key lookup failed");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                code::INTERNAL_SERVER_ERROR,
                "internal error",
            )
        }
    })
}

/// The per-request data: the caller and fresh data loaders.
fn request_data(store: &Arc<dyn Store>, actor: &Actor) -> Data {
    let l = loaders::for_request(store);
    let mut data = Data::default();
    data.insert(actor.clone());
    data.insert(l.projects);
    data.insert(l.credits);
    data.insert(l.project_credits);
    data.insert(l.alert_history);
    data.insert(l.rollups);
    data
}

async fn execute(api: &Api, actor: &Actor, batch: BatchRequest) -> Response {
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(list) => list.len(),
    };
    if operations == 0 || operations > api.config.max_batch {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::GRAPHQL_VALIDATION_FAILED,
            &format!(
                "a batch of {operations} operations; between 1 and {} are allowed",
                api.config.max_batch
            ),
        );
    }
    let longest = match &batch {
        BatchRequest::Single(r) => r.query.len(),
        BatchRequest::Batch(list) => list.iter().map(|r| r.query.len()).max().unwrap_or(0),
    };
    if longest > api.config.max_query_bytes {
        return refuse(
            StatusCode::BAD_REQUEST,
            code::GRAPHQL_VALIDATION_FAILED,
            &format!(
                "a query of {longest} bytes; at most {} are allowed",
                api.config.max_query_bytes
            ),
        );
    }
    let n = NonZeroU32::new(operations as u32).unwrap_or(NonZeroU32::MIN);
    if let Err(wait) = api.limits.allow(actor, n) {
        return refuse_for(wait, "rate limit exceeded for this API key; slow down");
    }
    let with_data = |mut r: async_graphql::Request| {
        r.data = request_data(&api.store, actor);
        r
    };
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(with_data(r)),
        BatchRequest::Batch(list) => BatchRequest::Batch(list.into_iter().map(with_data).collect()),
    };
    let response = match api.schema.execute_batch(batch).await {
        BatchResponse::Single(r) => BatchResponse::Single(with_codes(r)),
        BatchResponse::Batch(list) => {
            BatchResponse::Batch(list.into_iter().map(with_codes).collect())
        }
    };
    let mut http = Json(response).into_response();
    http.headers_mut().insert(
        HeaderName::from_static("cache-control"),
        HeaderValue::from_static("no-store"),
    );
    http
}

/// Gives every error an `extensions.code`: resolver errors carry theirs; the rest were
/// refused before execution or failed to coerce an argument.
fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    let executed = !matches!(response.data, async_graphql::Value::Null);
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if error.message.starts_with("Invalid value for argument")
            || error.message.starts_with("Failed to parse")
        {
            code::BAD_USER_INPUT
        } else if executed {
            code::INTERNAL_SERVER_ERROR
        } else {
            code::GRAPHQL_VALIDATION_FAILED
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    response
}

async fn graphql_post(
    State(api): State<Api>,
    client: Client,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = api.config.max_body_bytes;
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {limit} bytes"),
        )
    };
    // Refused on its declared length, before a byte of it is read; a body without one is
    // cut off at the limit while it streams in.
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let actor = match caller(&api, &headers, address(&client)).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::GRAPHQL_VALIDATION_FAILED,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(&api, &actor, batch).await
}

async fn graphql_get(
    State(api): State<Api>,
    client: Client,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let actor = match caller(&api, &headers, address(&client)).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                code::GRAPHQL_VALIDATION_FAILED,
                &format!("not a GraphQL request: {e}"),
            );
        }
    };
    // GET is for queries: a mutation must not be triggered by a link or a prefetch.
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query)
        && doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty != OperationType::Query)
    {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            code::GRAPHQL_VALIDATION_FAILED,
            "only queries may be sent with GET; use POST",
        );
    }
    execute(&api, &actor, BatchRequest::Single(request)).await
}

async fn graphql_ws(
    State(api): State<Api>,
    client: Client,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A key may come with the upgrade request or in the connection_init payload.
    let from_headers = match caller(&api, &headers, address(&client)).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let store = api.store.clone();
            let uses = api.uses.clone();
            let anonymous_read = api.config.anonymous_read;
            GraphQLWebSocket::new(socket, api.schema.clone(), protocol)
                .on_connection_init(move |payload: Value| async move {
                    let mut headers = HeaderMap::new();
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| {
                            payload
                                .get("apiKey")
                                .and_then(Value::as_str)
                                .map(|k| format!("Bearer {k}"))
                        });
                    let actor = match token.and_then(|t| HeaderValue::from_str(&t).ok()) {
                        Some(value) => {
                            headers.insert(axum::http::header::AUTHORIZATION, value);
                            crate::auth::actor(store.as_ref(), &uses, &headers, anonymous_read)
                                .await
                                .map_err(|e| {
                                    crate::error::coded(code::UNAUTHENTICATED, e.to_string())
                                })?
                        }
                        None => from_headers,
                    };
                    Ok(request_data(&store, &actor))
                })
                .serve()
                .await;
        })
}

/// Refuses operations with more aliased fields than allowed, while parsing, so a query of
/// 10,000 aliases costs one parse and no execution.
struct AliasLimit(usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension(self.0))
    }
}

struct AliasLimitExtension(usize);

fn count_aliases(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> usize {
    if depth > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some())
                    + count_aliases(&f.node.selection_set.node, doc, depth + 1)
            }
            Selection::InlineFragment(f) => {
                count_aliases(&f.node.selection_set.node, doc, depth + 1)
            }
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.node.fragment_name.node)
                .map_or(0, |f| {
                    count_aliases(&f.node.selection_set.node, doc, depth + 1)
                }),
        })
        .sum()
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        for (_, op) in doc.operations.iter() {
            let aliases = count_aliases(&op.node.selection_set.node, &doc, 0);
            if aliases > self.0 {
                let mut e = ServerError::new(
                    format!("{aliases} aliased fields; at most {} are allowed", self.0),
                    None,
                );
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::GRAPHQL_VALIDATION_FAILED);
                return Err(e);
            }
        }
        Ok(doc)
    }
}
