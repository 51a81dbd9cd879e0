//! The product's AWS resources, created in the emulator with the same shape
//! as `infra/template.yaml` gives them in AWS: the mirror table (keys `pk` and
//! `sk`, index `gsi1`), the sync queue and the schedule group.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

#[derive(Debug, Clone)]
pub struct Resources {
    pub prefix: String,
    pub table: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub schedule_group: String,
}

/// Returns a name prefix that no other test or run uses.
pub fn unique_prefix() -> String {
    format!(
        "okta-sync-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

impl Resources {
    pub async fn create(sdk: &SdkConfig, prefix: &str) -> Resources {
        let table = format!("{prefix}-mirror");
        create_table(sdk, &table).await;

        let sqs = aws_sdk_sqs::Client::new(sdk);
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{prefix}-sync"))
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                "960",
            )
            .send()
            .await
            .expect("create the sync queue")
            .queue_url
            .expect("queue url");
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("read the queue's ARN")
            .attributes
            .and_then(|mut attributes| {
                attributes.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            })
            .expect("queue ARN");

        let schedule_group = format!("{prefix}-schedules");
        aws_sdk_scheduler::Client::new(sdk)
            .create_schedule_group()
            .name(&schedule_group)
            .send()
            .await
            .expect("create the schedule group");

        Resources {
            prefix: prefix.to_owned(),
            table,
            queue_url,
            queue_arn,
            schedule_group,
        }
    }
}

/// Creates the mirror table with its index and enables TTL on `expiresAt`.
pub async fn create_table(sdk: &SdkConfig, table: &str) {
    create_table_without_ttl(sdk, table).await;
    // As in the template. The code checks expiry times itself, because TTL
    // deletes late and moto never deletes, but the setting is read back in
    // the tests.
    aws_sdk_dynamodb::Client::new(sdk)
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiresAt")
                .enabled(true)
                .build()
                .expect("TTL specification"),
        )
        .send()
        .await
        .expect("enable TTL on the mirror table");
}

/// Creates the mirror table with its keys and index but no TTL setting, for
/// emulators without `UpdateTimeToLive` (dynalite 3.2.2, which the
/// benchmark can use). Nothing the product does depends on TTL.
pub async fn create_table_without_ttl(sdk: &SdkConfig, table: &str) {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key schema")
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash))
        .key_schema(key("gsi1sk", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index");
    let client = aws_sdk_dynamodb::Client::new(sdk);
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .attribute_definitions(attribute("gsi1pk"))
        .attribute_definitions(attribute("gsi1sk"))
        .global_secondary_indexes(index)
        .send()
        .await
        .expect("create the mirror table");
}

/// Reads every item of a table as a sorted list of debug strings.
pub async fn dump_table(sdk: &SdkConfig, table: &str) -> Vec<String> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let mut rows = Vec::new();
    let mut start = None;
    loop {
        let output = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan the table");
        for item in output.items.unwrap_or_default() {
            rows.push(canonical_item(&item));
        }
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    rows.sort();
    rows
}

/// Formats an item with map keys sorted at every level, so two dumps of
/// the same data compare equal.
pub fn canonical_item(item: &std::collections::HashMap<String, AttributeValue>) -> String {
    let sorted: std::collections::BTreeMap<_, _> = item.iter().collect();
    let fields: Vec<String> = sorted
        .into_iter()
        .map(|(name, value)| format!("{name:?}: {}", canonical_value(value)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn canonical_value(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => canonical_item(map),
        AttributeValue::L(list) => {
            let items: Vec<String> = list.iter().map(canonical_value).collect();
            format!("[{}]", items.join(", "))
        }
        AttributeValue::Ss(set) | AttributeValue::Ns(set) => {
            let mut sorted = set.clone();
            sorted.sort();
            format!("{sorted:?}")
        }
        other => format!("{other:?}"),
    }
}
