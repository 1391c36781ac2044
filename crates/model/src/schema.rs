//! JSON Schemas of the common record types, exported to `schema/model/`.

use schemars::{JsonSchema, schema_for};

use crate::{
    Alert, AlertEvent, AlertNotification, ConnectorRun, CreditRecord, NotificationDelivery,
    Project, RecordVersion, RejectedRecord, WebhookDelivery,
};

/// `(file name, pretty JSON Schema)` for every common record type.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn one<T: JsonSchema>(file: &'static str) -> (&'static str, String) {
        let schema = schema_for!(T);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        (file, text)
    }
    vec![
        one::<Project>("project.schema.json"),
        one::<CreditRecord>("credit-record.schema.json"),
        one::<Alert>("alert.schema.json"),
        one::<AlertEvent>("alert-event.schema.json"),
        one::<RecordVersion>("record-version.schema.json"),
        one::<ConnectorRun>("connector-run.schema.json"),
        one::<RejectedRecord>("rejected-record.schema.json"),
        one::<WebhookDelivery>("webhook-delivery.schema.json"),
        one::<AlertNotification>("alert-notification.schema.json"),
        one::<NotificationDelivery>("notification-delivery.schema.json"),
    ]
}
