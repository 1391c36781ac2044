//! Toucan's subgraph: the GraphQL query of each feed, its paging, and the entity arrays of a
//! response or a saved file.
//!
//! Toucan publishes its bridge through The Graph. Every entity is read in pages of
//! [`PAGE_SIZE`] ordered by `id`, each page asking for the ids after the last one seen
//! (`where: { id_gt: … }`): The Graph's own advice for reading a whole entity, as `skip` grows
//! slow and is capped. The entity and field names are those of Toucan's subgraph (see the
//! crate's README for the sources).

use carbonmesh_connector::Feed;
use serde_json::{Value, json};

/// Entities asked for per page: The Graph's largest `first`.
pub const PAGE_SIZE: usize = 1000;

/// The subgraph entity each feed reads.
pub(crate) fn entity(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("tco2Tokens"),
        Feed::Issuances => Some("batchTokens"),
        Feed::Retirements => Some("retirements"),
        Feed::Cancellations | Feed::Transactions => None,
    }
}

/// The fields asked for, per entity.
fn selection(entity: &str) -> &'static str {
    match entity {
        "tco2Tokens" => {
            "id name symbol address createdAt \
             projectVintage { name startTime endTime project { projectId standard methodology region category } }"
        }
        "batchTokens" => {
            "id serialNumber quantity confirmationStatus timestamp tx creator { id } \
             projectVintage { name project { projectId } }"
        }
        _ => {
            "id creationTx amount timestamp \
             token { symbol projectVintage { name project { projectId } } } \
             certificate { id beneficiaryString retiringEntityString retirementMessage }"
        }
    }
}

/// The request body of the page of `feed` after the entity id `after` (`""` for the first).
pub(crate) fn query(feed: Feed, after: &str) -> Option<Value> {
    let entity = entity(feed)?;
    let query = format!(
        "query Page($first: Int!, $after: String!) {{ {entity}(first: $first, orderBy: id, \
         orderDirection: asc, where: {{ id_gt: $after }}) {{ {} }} }}",
        selection(entity)
    );
    Some(json!({ "query": query, "variables": { "first": PAGE_SIZE, "after": after } }))
}

/// The entity array of a subgraph response (`{"data": {"<entity>": [...]}}`); GraphQL errors
/// are reported with their messages.
pub(crate) fn response_items(feed: Feed, body: &Value) -> Result<Vec<Value>, String> {
    let entity = entity(feed).ok_or_else(|| format!("Toucan publishes no {feed} feed"))?;
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .collect();
        return Err(format!(
            "the subgraph answered with errors: {}",
            messages.join("; ")
        ));
    }
    match body.get("data").and_then(|d| d.get(entity)) {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err(format!("no `data.{entity}` array in the response")),
    }
}

/// The cursor of the page after `items`: the last id, when the page was full.
pub(crate) fn next_cursor(items: &[Value]) -> Result<Option<String>, String> {
    if items.len() < PAGE_SIZE {
        return Ok(None);
    }
    items
        .last()
        .and_then(|last| last.get("id"))
        .and_then(Value::as_str)
        .map(|id| Some(id.to_owned()))
        .ok_or_else(|| "the last entity of a full page has no `id` to page from".to_owned())
}

/// The feed a saved file holds, from its JSON: a subgraph response names its entity
/// (`{"data": {"batchTokens": …}}`), and a bare TCO2 token (as the Toucan SDK prints one) or an
/// array of them is the projects feed.
pub(crate) fn detect(value: &Value) -> Option<Feed> {
    if let Some(data) = value.get("data") {
        return [Feed::Projects, Feed::Issuances, Feed::Retirements]
            .into_iter()
            .find(|&feed| entity(feed).is_some_and(|e| data.get(e).is_some()));
    }
    let first = match value {
        Value::Array(items) => items.first()?,
        object => object,
    };
    let is_token = first.get("symbol").is_some() && first.get("projectVintage").is_some();
    is_token.then_some(Feed::Projects)
}

/// The entity array of a saved file of `feed`: a subgraph response, a bare array, or one bare
/// entity.
pub(crate) fn file_items(feed: Feed, value: Value) -> Result<Vec<Value>, String> {
    if value.get("data").is_some() || value.get("errors").is_some() {
        return response_items(feed, &value);
    }
    match value {
        Value::Array(items) => Ok(items),
        object @ Value::Object(_) => Ok(vec![object]),
        _ => Err("expected a subgraph response, an array of entities or one entity".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_page_by_id_and_name_the_entity_of_the_feed() {
        let q = query(Feed::Issuances, "1041").expect("issuances");
        let text = q["query"].as_str().expect("query text");
        assert!(
            text.contains("batchTokens(first: $first, orderBy: id"),
            "{text}"
        );
        assert!(text.contains("where: { id_gt: $after }"), "{text}");
        assert!(
            text.contains("serialNumber quantity confirmationStatus"),
            "{text}"
        );
        assert_eq!(q["variables"], json!({ "first": 1000, "after": "1041" }));
        assert!(query(Feed::Cancellations, "").is_none());
    }

    #[test]
    fn a_full_page_pages_on_from_its_last_id() {
        let full: Vec<Value> = (0..PAGE_SIZE)
            .map(|i| json!({ "id": format!("{i:04}") }))
            .collect();
        assert_eq!(next_cursor(&full), Ok(Some("0999".to_owned())));
        assert_eq!(next_cursor(&full[..3]), Ok(None));
        let mut no_id = full.clone();
        no_id[PAGE_SIZE - 1] = json!({});
        assert!(next_cursor(&no_id).is_err());
    }

    #[test]
    fn errors_of_the_subgraph_are_reported() {
        let body = json!({ "errors": [{ "message": "indexing_error" }, { "message": "auth" }] });
        assert_eq!(
            response_items(Feed::Projects, &body),
            Err("the subgraph answered with errors: indexing_error; auth".to_owned())
        );
        assert!(response_items(Feed::Projects, &json!({ "data": {} })).is_err());
    }
}
