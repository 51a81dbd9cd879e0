//! Reading and writing attribute maps, and the paged query every list uses.

use aws_sdk_dynamodb::types::AttributeValue;

use super::batch::Item;
use super::{Store, StoreError};

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn opt_s(value: &Option<String>) -> AttributeValue {
    match value {
        Some(value) => AttributeValue::S(value.clone()),
        None => AttributeValue::Null(true),
    }
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn get_s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

pub fn get_n(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

pub fn require_s(item: &Item, name: &str) -> Result<String, StoreError> {
    get_s(item, name).ok_or_else(|| StoreError::corrupt(format!("attribute {name}"), "missing"))
}

/// One page of a query and the sort key to continue after.
pub struct QueryPage {
    pub items: Vec<Item>,
    pub last_sk: Option<String>,
}

pub struct Filter<'a> {
    pub expression: String,
    pub values: Vec<(&'a str, AttributeValue)>,
    pub names: Vec<(&'a str, &'a str)>,
}

pub struct PagedQuery<'a> {
    pub pk: String,
    pub after_sk: Option<String>,
    pub limit: usize,
    /// DynamoDB filter expression, applied after the key condition.
    pub filter: Option<Filter<'a>>,
    pub newest_first: bool,
}

impl Store {
    /// Reads up to `limit` matching items after `after_sk`. A filter may
    /// discard items DynamoDB read, so this keeps reading until the page is
    /// full or the partition ends.
    pub(crate) async fn query_page(&self, query: PagedQuery<'_>) -> Result<QueryPage, StoreError> {
        let (pk_name, sk_name) = ("pk", "sk");
        let mut items = Vec::new();
        let mut start = query.after_sk.clone().map(|sk| {
            let mut key = Item::new();
            key.insert(pk_name.to_owned(), s(&query.pk));
            key.insert(sk_name.to_owned(), s(sk));
            key
        });

        loop {
            let remaining = query.limit - items.len();
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(&query.pk))
                .scan_index_forward(!query.newest_first)
                .limit(remaining.max(1) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(filter) = &query.filter {
                request = request.filter_expression(&filter.expression);
                for (placeholder, value) in &filter.values {
                    request = request.expression_attribute_values(*placeholder, value.clone());
                }
                for (placeholder, name) in &filter.names {
                    request = request.expression_attribute_names(*placeholder, *name);
                }
            }
            let output = request
                .send()
                .await
                .map_err(|error| StoreError::dynamo("Query", error))?;
            items.extend(output.items.unwrap_or_default());
            let last = output.last_evaluated_key;
            match last {
                Some(key) if items.len() < query.limit => start = Some(key),
                Some(key) => {
                    let last_sk = get_s(&key, sk_name);
                    return Ok(QueryPage { items, last_sk });
                }
                None => {
                    return Ok(QueryPage {
                        items,
                        last_sk: None,
                    })
                }
            }
        }
    }

    /// Reads one item by its keys, strongly consistent when `consistent`.
    pub(crate) async fn get_item(
        &self,
        pk: String,
        sk: &str,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        Ok(output.item)
    }

    /// Writes one item whole, with no condition.
    pub(crate) async fn put_item(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("PutItem", error))?;
        Ok(())
    }

    /// Reads every item of a partition, a page at a time, keeping only the
    /// projected attributes.
    pub(crate) async fn query_all(
        &self,
        index: Option<&str>,
        pk: &str,
        projection: &str,
        names: &[(&str, &str)],
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        self.query_each_page(index, pk, projection, names, |page| {
            items.extend(page);
            Ok(())
        })
        .await?;
        Ok(items)
    }

    /// Reads every item of a partition like `query_all` but passes each page
    /// (up to 1 MB of items) to `on_page` and keeps none. A caller that keeps
    /// less than whole items then needs memory for one page only.
    pub(crate) async fn query_each_page(
        &self,
        index: Option<&str>,
        pk: &str,
        projection: &str,
        names: &[(&str, &str)],
        mut on_page: impl FnMut(Vec<Item>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#partition = :pk")
                .expression_attribute_names(
                    "#partition",
                    if index.is_some() { "gsi1pk" } else { "pk" },
                )
                .expression_attribute_values(":pk", s(pk))
                .set_projection_expression((!projection.is_empty()).then(|| projection.to_owned()))
                .set_index_name(index.map(str::to_owned))
                .set_exclusive_start_key(start.take());
            for (placeholder, name) in names {
                request = request.expression_attribute_names(*placeholder, *name);
            }
            let output = request
                .send()
                .await
                .map_err(|error| StoreError::dynamo("Query", error))?;
            on_page(output.items.unwrap_or_default())?;
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(()),
            }
        }
    }
}
