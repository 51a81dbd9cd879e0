//! Audit records: one item per admin action, written twice so that both the
//! whole trail and one connector's trail read as a single query, newest
//! first.
//!
//! Key layout: `pk = "audit"` and `pk = "audit#c#<connector id>"`, both with
//! `sk = record id` (ids sort by time). Both copies expire together through
//! `expiresAt`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::items::{n, s, Filter, PagedQuery};
use super::{epoch_seconds, Store, StoreError};
use crate::records::AuditRecord;

const AUDIT_PK: &str = "audit";

fn connector_audit_pk(connector_id: &str) -> String {
    format!("audit#c#{connector_id}")
}

impl Store {
    /// Stores an audit record in the trail of all actions and, when it
    /// concerns a connector, in that connector's trail, in one transaction.
    pub async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let mut partitions = vec![AUDIT_PK.to_owned()];
        if let Some(connector_id) = &record.connector_id {
            partitions.push(connector_audit_pk(connector_id));
        }
        let mut request = self.client.transact_write_items();
        for partition in partitions {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(self.audit_item(record, partition)?))
                .build()
                .map_err(|error| StoreError::corrupt("audit record", error))?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        request
            .send()
            .await
            .map_err(|error| StoreError::dynamo("TransactWriteItems", error))?;
        Ok(())
    }

    /// Lists audit records, newest first, of one connector or of all. Items
    /// past their expiry are left out, because DynamoDB TTL deletes late.
    pub async fn list_audit(
        &self,
        connector_id: Option<&str>,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditRecord>, Option<String>), StoreError> {
        let pk = match connector_id {
            Some(connector_id) => connector_audit_pk(connector_id),
            None => AUDIT_PK.to_owned(),
        };
        let page = self
            .query_page(PagedQuery {
                pk,
                after_sk: after,
                limit,
                filter: Some(Filter {
                    expression: "attribute_not_exists(expiresAt) OR expiresAt > :now".into(),
                    values: vec![(":now", n(epoch_seconds()))],
                    names: vec![],
                }),
                newest_first: true,
            })
            .await?;
        let records = page
            .items
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|error| StoreError::corrupt("audit record", error))
            })
            .collect::<Result<Vec<AuditRecord>, _>>()?;
        Ok((records, page.last_sk))
    }

    fn audit_item(
        &self,
        record: &AuditRecord,
        partition: String,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut item: HashMap<String, AttributeValue> = serde_dynamo::to_item(record)
            .map_err(|error| StoreError::corrupt("audit record", error))?;
        item.insert("pk".into(), s(partition));
        item.insert("sk".into(), s(&record.id));
        item.insert("expiresAt".into(), n(self.expires_at()));
        Ok(item)
    }
}
