//! Notifications: every alert history entry that announces something (an alert raised,
//! escalated, confirmed, dismissed or reopened) is sent to each configured endpoint whose
//! severity threshold it meets, as a JSON body signed the way Standard Webhooks prescribe.
//!
//! The alert history is the outbox: an entry is written in the transaction that changes the
//! alert, and an endpoint's position in that history moves only when an entry's notification
//! was accepted (2xx) or announced nothing to it. A server that dies between the two starts
//! again from the stored position, so nothing is lost; a notification may then arrive twice,
//! with the same `webhook-id`, which receivers use to drop repeats. Each endpoint is served
//! by one server at a time (a lease in the store), in history order: a notification that
//! keeps failing holds back the ones after it, as the order is part of the contract.

mod deliver;
mod settings;

pub use deliver::{StartError, build_notification, message_id, start};
pub use settings::{EndpointSettings, NotificationSettings, SettingsError, SigningSecret};
