//! DynamoDB adapter: one table, `pk`/`sk` string keys as in DESIGN.md, conditional writes for
//! every state change, and two sparse indexes: `due_keys` (`due_pk`, `due_at_ms`), so the sweeper
//! and the refresher find unfinished work without a scan, and `ticket` (`ticket_key` =
//! `BOT#{bot}#TICKET#{id}`), so a webhook finds its conversation. Keeping the ticket index on the
//! conversation item (rather than a second item) makes recording a ticket one conditional write.
//! Items ↔ structs through `serde_dynamo`.
//!
//! The due index is neither hot nor heavy. `due_pk` is `{KIND}#{n}` (kinds `DUE`, `CALLBACK`,
//! `WEBHOOK`, `REFRESH`; `n` a stable hash of the item's key modulo [`DUE_SHARDS`]), so pending
//! work spreads over several partitions; a listing queries every shard at once and merges by due
//! time. The index projects keys only: transcripts and callback bodies are not copied into it,
//! and a write that leaves the due time alone costs it nothing. A listing reads the listed items
//! from the table (`BatchGetItem`, consistent), skipping any that vanished or are no longer due
//! since the index (eventually consistent) was read. Items written before the sharding carry the
//! bare kind (`DUE`, …): listings still query that legacy partition, and every write that sets a
//! due time moves an item to its shard, so it empties itself (see `LEGACY_DUE_ITEMS`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, Projection, ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType,
};
use serde::{Deserialize, Serialize};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::dynamo_update::Update;
use super::*;

mod visitors;

/// Name of the sparse index over unfinished work (keys only). A new name, not `due`: DynamoDB
/// cannot change an index's projection in place, so a deployed stack adds this one beside the old
/// `due` (projecting everything) and drops that in a second deploy.
pub const DUE_INDEX: &str = "due_keys";
/// Name of the sparse index from ticket to conversation.
pub const TICKET_INDEX: &str = "ticket";
/// How many partitions of the due index each kind of work is spread over. Only ever grow it:
/// listings query shards `0..DUE_SHARDS`, so items in a shard past a smaller count would be lost
/// to the sweeper. Eight keeps one partition's writes far from DynamoDB's per-partition limit
/// while a listing costs nine small queries (the shards and the legacy partition).
pub const DUE_SHARDS: u64 = 8;
/// How many of a bot's conversations a list of its unfinished escalations reads at most: the
/// console and the diagnostics read it on demand, so its cost stays bounded (about 2,000 items,
/// ten pages); a bot with more conversations sees the unfinished ones among them.
const UNFINISHED_READ_LIMIT: usize = 2_000;
/// At most this many keys per `BatchGetItem` (DynamoDB's limit).
const BATCH_GET_KEYS: usize = 100;
/// Rounds of asking again for keys a `BatchGetItem` left unprocessed, backing off between them.
const BATCH_GET_ROUNDS: u32 = 5;
/// Visitors' session details are kept this long (or the retention, if shorter).
const VISITOR_TTL_SECONDS: i64 = 90 * 86_400;
/// Seen webhook events and their callbacks are remembered this long (or the retention, if
/// shorter): Zendesk retries for far less.
const SEEN_TTL_SECONDS: i64 = 7 * 86_400;
/// How long a conversation is kept after its last write unless configured otherwise
/// (`HANDOFF_RETENTION_DAYS`; README "Privacy").
pub const DEFAULT_RETENTION_DAYS: u32 = 400;
/// DynamoDB's item size limit is 400 KB; keep a margin for attribute names.
const MAX_ITEM_BYTES: usize = 390 * 1024;

type Item = HashMap<String, AttributeValue>;

/// The kinds of work on the due index, each with its own partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DueKind {
    /// Pending escalations (conversation items).
    Escalation,
    /// Callbacks not yet delivered (seen-event items).
    Callback,
    /// Webhook health checks.
    WebhookCheck,
    /// Connections whose tokens need refreshing.
    Refresh,
}

impl DueKind {
    /// The kind's one partition before the index was sharded; items an older release wrote
    /// still carry it (queried until none are left, `LEGACY_DUE_ITEMS` in the logs).
    fn legacy(self) -> &'static str {
        match self {
            DueKind::Escalation => "DUE",
            DueKind::Callback => "CALLBACK",
            DueKind::WebhookCheck => "WEBHOOK",
            DueKind::Refresh => "REFRESH",
        }
    }

    /// The item's partition: `{KIND}#{n}`, `n` from its key, so every writer agrees.
    fn partition(self, key: &Item) -> AttributeValue {
        let text = |name: &str| match key.get(name) {
            Some(AttributeValue::S(value)) => value.as_str(),
            _ => "",
        };
        s(format!("{}#{}", self.legacy(), due_shard(text("pk"), text("sk"))))
    }
}

/// A stable hash of an item's key (FNV-1a: the same in every process and release, unlike std's
/// hasher) modulo [`DUE_SHARDS`].
fn due_shard(pk: &str, sk: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in pk.bytes().chain([0]).chain(sk.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % DUE_SHARDS
}

pub struct DynamoStore {
    /// Built on the first call (`aws_sdk::LazyClient`): init does not pay for it.
    client: crate::aws_sdk::LazyClient<Client>,
    table: String,
    /// Seconds a conversation is kept after its last write (DynamoDB's TTL on `expires_at`).
    retention_s: i64,
    pub calls: CallCounter,
}

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    connection: Connection,
}

#[derive(Serialize, Deserialize)]
struct SettingsItem {
    pk: String,
    sk: String,
    settings: BotSettings,
}

fn bot_pk(bot_id: &str) -> String {
    format!("BOT#{bot_id}")
}

fn conv_key(bot_id: &str, conversation_id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(bot_pk(bot_id))),
        ("sk".to_owned(), AttributeValue::S(format!("CONV#{conversation_id}"))),
    ])
}

fn connection_key(bot_id: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(bot_pk(bot_id))), ("sk".to_owned(), s("CONNECTION"))])
}

/// The ticket index key: ticket ids are per Zendesk account, so the account is part of it. A
/// record from before accounts were kept has the legacy key without one.
fn ticket_key(bot_id: &str, account: Option<&str>, ticket_id: u64) -> String {
    match account {
        Some(account) => format!("BOT#{bot_id}#ACCOUNT#{account}#TICKET#{ticket_id}"),
        None => format!("BOT#{bot_id}#TICKET#{ticket_id}"),
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(&e).to_string())
}

fn corrupt(e: serde_dynamo::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The conversation item: the record plus keys, with nulls dropped (a sparse index key must be
/// absent, not null) and the due-index key set only while work is due.
fn conversation_item(record: &ConversationRecord) -> Result<Item, StoreError> {
    let mut item: Item = to_item(record).map_err(corrupt)?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    let key = conv_key(&record.bot_id, &record.conversation_id);
    if record.due_at_ms.is_some() {
        item.insert("due_pk".into(), DueKind::Escalation.partition(&key));
    }
    item.extend(key);
    if let Some(ticket_id) = record.ticket_id {
        item.insert("ticket_key".into(), s(ticket_key(&record.bot_id, record.account.as_deref(), ticket_id)));
    }
    let size: usize = item.iter().map(|(k, v)| k.len() + attribute_size(v)).sum();
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::TooLarge(size));
    }
    Ok(item)
}

fn attribute_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(v) | AttributeValue::N(v) => v.len(),
        AttributeValue::M(m) => m.iter().map(|(k, v)| k.len() + attribute_size(v)).sum(),
        AttributeValue::L(l) => l.iter().map(attribute_size).sum(),
        _ => 8,
    }
}

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn conversation_from(item: Item) -> Result<ConversationRecord, StoreError> {
    from_item(item).map_err(corrupt)
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self::with_client(crate::aws_sdk::LazyClient::ready(client), table.into())
    }

    /// A store whose client is built from `config` on its first call (a Lambda's init).
    pub fn on_first_use(config: aws_types::SdkConfig, table: impl Into<String>) -> Self {
        Self::with_client(crate::aws_sdk::LazyClient::on_first_use(config, Client::new), table.into())
    }

    fn with_client(client: crate::aws_sdk::LazyClient<Client>, table: String) -> Self {
        let retention_s = i64::from(DEFAULT_RETENTION_DAYS) * 86_400;
        Self { client, table, retention_s, calls: CallCounter::default() }
    }

    /// Keeps conversations `days` after their last write instead of `DEFAULT_RETENTION_DAYS`;
    /// visitors' session details and seen events are kept no longer than that either.
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_s = i64::from(days.max(1)) * 86_400;
        self
    }

    /// When an item written now with at most `keep_s` seconds to live expires (epoch seconds).
    fn expires_at(&self, keep_s: i64) -> AttributeValue {
        n(time::OffsetDateTime::now_utc().unix_timestamp() + keep_s.min(self.retention_s))
    }

    /// Creates the table as the SAM template does (tests and the local runner on an emulator).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let attr = |name: &str, kind: ScalarAttributeType| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build()
        };
        let due_index = GlobalSecondaryIndex::builder()
            .index_name(DUE_INDEX)
            .key_schema(built(key("due_pk", KeyType::Hash))?)
            .key_schema(built(key("due_at_ms", KeyType::Range))?)
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build();
        let ticket_index = GlobalSecondaryIndex::builder()
            .index_name(TICKET_INDEX)
            .key_schema(built(key("ticket_key", KeyType::Hash))?)
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build();
        let result = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(built(key("pk", KeyType::Hash))?)
            .key_schema(built(key("sk", KeyType::Range))?)
            .attribute_definitions(built(attr("pk", ScalarAttributeType::S))?)
            .attribute_definitions(built(attr("sk", ScalarAttributeType::S))?)
            .attribute_definitions(built(attr("due_pk", ScalarAttributeType::S))?)
            .attribute_definitions(built(attr("due_at_ms", ScalarAttributeType::N))?)
            .attribute_definitions(built(attr("ticket_key", ScalarAttributeType::S))?)
            .global_secondary_indexes(built(due_index)?)
            .global_secondary_indexes(built(ticket_index)?)
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_in_use_exception()) => {}
            Err(e) => return Err(unavailable(e)),
        }
        // Tables are created asynchronously (by AWS and by dynalite): wait until it is usable.
        for _ in 0..100 {
            let described = client.describe_table().table_name(table).send().await.map_err(unavailable)?;
            let status = described.table().and_then(|t| t.table_status().cloned());
            if status == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(StoreError::Unavailable(format!("table {table} did not become active")))
    }

    /// A conditional put of a conversation; on a lost condition, the item that won.
    async fn put_conversation(
        &self,
        record: &ConversationRecord,
        condition: &str,
        values: Option<Item>,
    ) -> Result<Result<(), ConversationRecord>, StoreError> {
        self.calls.write();
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.with_expiry(conversation_item(record)?)))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(values) = values {
            request =
                request.set_expression_attribute_values(Some(values)).expression_attribute_names("#version", "version");
        }
        match request.send().await {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed)) => {
                    // DynamoDB returns the winning item; an emulator that predates that feature
                    // (dynalite) does not, so read it.
                    let old = match failed.item() {
                        Some(item) => conversation_from(item.clone())?,
                        None => self
                            .get_conversation(&record.bot_id, &record.conversation_id)
                            .await?
                            .ok_or(StoreError::Conflict)?,
                    };
                    Ok(Err(old))
                }
                _ => Err(unavailable(e)),
            },
        }
    }

    /// Whether a conditional update (`dynamo_update::Update`) was applied: false when its
    /// condition did not hold.
    async fn apply_if(&self, update: Update) -> Result<bool, StoreError> {
        match self.apply(update).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The item as a conditional update left it; None when its condition did not hold.
    async fn apply_returning(&self, mut update: Update) -> Result<Option<Item>, StoreError> {
        update.return_new = true;
        match self.apply(update).await {
            Ok(Some(item)) => Ok(Some(item)),
            Ok(None) => Err(StoreError::Corrupt("update returned no item".into())),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A conversation item with its expiry: every write to a conversation is activity, so each
    /// moves its expiry to the retention from now.
    fn with_expiry(&self, mut item: Item) -> Item {
        item.insert("expires_at".into(), self.expires_at(i64::MAX));
        item
    }

    /// Sends a conditional update; `Conflict` when the condition fails. An update of a
    /// conversation moves its expiry (`with_expiry`).
    async fn apply(&self, mut update: Update) -> Result<Option<Item>, StoreError> {
        if matches!(update.key.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with("CONV#")) {
            update = update.set("expires_at", self.expires_at(i64::MAX));
        }
        self.calls.write();
        let expression = update.expression();
        let condition = update.condition().map(str::to_owned);
        let names = (!update.names.is_empty()).then_some(update.names);
        let values = (!update.values.is_empty()).then_some(update.values);
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(update.key))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values);
        if update.return_new {
            request = request.return_values(ReturnValue::AllNew);
        }
        match request.send().await {
            Ok(output) => Ok(output.attributes),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

impl DynamoStore {
    /// Items of one kind due by `now_ms`, soonest first, at most `limit`, read whole from the
    /// table: the index gives only their keys. Every shard and the legacy partition are queried
    /// at once and merged by due time.
    async fn query_due(&self, kind: DueKind, now_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        let limit = limit.clamp(1, 1000);
        let partitions = (0..DUE_SHARDS).map(|n| format!("{}#{n}", kind.legacy())).chain([kind.legacy().to_owned()]);
        let mut queries = tokio::task::JoinSet::new();
        for partition in partitions {
            self.calls.read();
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("due_pk = :due AND due_at_ms <= :now")
                .expression_attribute_values(":due", s(&partition))
                .expression_attribute_values(":now", n(now_ms))
                .limit(limit as i32);
            queries.spawn(async move { (partition, query.send().await) });
        }
        let mut listed: Vec<(i64, String, String)> = Vec::new();
        while let Some(joined) = queries.join_next().await {
            let (partition, output) = joined.map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let items = output.map_err(unavailable)?.items.unwrap_or_default();
            if partition == kind.legacy() && !items.is_empty() {
                tracing::info!(partition, count = items.len(), "LEGACY_DUE_ITEMS: due work on the unsharded partition");
            }
            for item in items {
                let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk)), Some(due)) =
                    (item.get("pk"), item.get("sk"), due_at(&item))
                else {
                    return Err(StoreError::Corrupt("due index entry without its keys".into()));
                };
                listed.push((due, pk.clone(), sk.clone()));
            }
        }
        listed.sort();
        // An item moving from the legacy partition to its shard may be seen in both.
        let mut seen = std::collections::HashSet::new();
        listed.retain(|(_, pk, sk)| seen.insert((pk.clone(), sk.clone())));
        listed.truncate(limit);

        let keys: Vec<Item> = listed
            .iter()
            .map(|(_, pk, sk)| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]))
            .collect();
        let mut found = self.batch_get(keys).await?;
        // The index lags the table: keep what is still there and still due, by its due time now.
        let mut due: Vec<(i64, Item)> = listed
            .into_iter()
            .filter_map(|(_, pk, sk)| found.remove(&(pk, sk)))
            .filter_map(|item| {
                due_at(&item).filter(|at| *at <= now_ms && item.contains_key("due_pk")).map(|at| (at, item))
            })
            .collect();
        due.sort_by_key(|(at, _)| *at);
        Ok(due.into_iter().map(|(_, item)| item).collect())
    }

    /// Reads `keys` from the table, consistently, at most 100 a call, asking again (with backoff)
    /// for those DynamoDB leaves unprocessed. Keys still unread after that are left out (with a
    /// warning): they stay due and the next run lists them. Missing items are simply absent.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            );
            for round in 0..BATCH_GET_ROUNDS {
                let Some(request) = pending.take() else { break };
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << round)).await;
                }
                self.calls.read();
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in output.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                    if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (item.get("pk"), item.get("sk"))
                    {
                        found.insert((pk.clone(), sk.clone()), item);
                    }
                }
                pending =
                    output.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
            }
            if let Some(left) = pending {
                tracing::warn!(count = left.keys().len(), "due items left unread by BatchGetItem; listed next run");
            }
        }
        Ok(found)
    }
}

/// An item's `due_at_ms`, when it has one.
fn due_at(item: &Item) -> Option<i64> {
    match item.get("due_at_ms") {
        Some(AttributeValue::N(at)) => at.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl BotStore for DynamoStore {
    async fn load_profile(&self, bot_id: &str) -> Result<BotProfile, StoreError> {
        let key = |sk: &str| HashMap::from([("pk".to_owned(), s(bot_pk(bot_id))), ("sk".to_owned(), s(sk))]);
        let keys = KeysAndAttributes::builder()
            .keys(key("CONNECTION"))
            .keys(key("SETTINGS"))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let mut profile = BotProfile::default();
        // BatchGetItem may leave keys unprocessed under load; ask again for those, a bounded number of times.
        for _ in 0..3 {
            self.calls.read();
            let output =
                self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(unavailable)?;
            for item in output.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == "CONNECTION" => {
                        profile.connection = Some(from_item::<ConnectionItem>(item).map_err(corrupt)?.connection);
                    }
                    Some(AttributeValue::S(sk)) if sk == "SETTINGS" => {
                        profile.settings = Some(from_item::<SettingsItem>(item).map_err(corrupt)?.settings);
                    }
                    _ => {}
                }
            }
            match output.unprocessed_keys.filter(|u| !u.is_empty()) {
                Some(unprocessed) => request = unprocessed,
                None => return Ok(profile),
            }
        }
        Err(StoreError::Unavailable("DynamoDB left keys unprocessed three times".into()))
    }

    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.calls.write();
        let item =
            ConnectionItem { pk: bot_pk(&connection.bot_id), sk: "CONNECTION".into(), connection: connection.clone() };
        let mut item: Item = to_item(item).map_err(corrupt)?;
        item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
        if let Some(due) = connection.refresh_due_at_ms() {
            item.insert("due_pk".into(), DueKind::Refresh.partition(&connection_key(&connection.bot_id)));
            item.insert("due_at_ms".into(), n(due));
        }
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn touch_last_webhook(&self, bot_id: &str, at_s: i64) -> Result<(), StoreError> {
        let update =
            Update::new(connection_key(bot_id)).set("last_webhook_at", n(at_s)).when("attribute_exists(pk)", []);
        done_unless_failed(self.apply(update).await)
    }

    async fn set_webhook_id(&self, bot_id: &str, expected_version: u64, webhook_id: &str) -> Result<(), StoreError> {
        let update = Update::new(connection_key(bot_id))
            .set("webhook_id", s(webhook_id))
            .bump_version()
            .when("#version = :v", [(":v", n(expected_version))]);
        self.apply(update).await.map(|_| ())
    }

    async fn set_connection_state(
        &self,
        bot_id: &str,
        expected_version: u64,
        state: ConnectionState,
    ) -> Result<(), StoreError> {
        let state = serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let connected = state == "connected";
        let mut update = Update::new(connection_key(bot_id)).set("state", s(state)).bump_version();
        // Only a connected connection is refreshed: anything else leaves the due index.
        if !connected {
            update = update.remove(&["due_pk", "due_at_ms"]);
        }
        self.apply(update.when("#version = :v", [(":v", n(expected_version))])).await.map(|_| ())
    }

    async fn mark_disconnected(&self, bot_id: &str, expected_version: u64, now_ms: i64) -> Result<(), StoreError> {
        let update = Update::new(connection_key(bot_id))
            .set("state", s("disconnected"))
            .remove(&[
                "refresh_lease_holder",
                "refresh_lease_until_ms",
                "due_pk",
                "due_at_ms",
                "access_token_expires_at",
                "refresh_token_expires_at",
            ])
            .bump_version()
            .when(
                "#version = :v AND (attribute_not_exists(refresh_lease_until_ms) OR refresh_lease_until_ms < :now)",
                [(":v", n(expected_version)), (":now", n(now_ms))],
            );
        self.apply(update).await.map(|_| ())
    }

    async fn acquire_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<Connection>, StoreError> {
        let update = Update::new(connection_key(bot_id))
            .set("refresh_lease_holder", s(holder))
            .set("refresh_lease_until_ms", n(until_ms))
            .when(
                "#state = :connected AND (attribute_not_exists(refresh_lease_until_ms) OR refresh_lease_until_ms < :now)",
                [(":connected", s("connected")), (":now", n(now_ms))],
            );
        let item = self.apply_returning(update).await?;
        item.map(|item| Ok(from_item::<ConnectionItem>(item).map_err(corrupt)?.connection)).transpose()
    }

    async fn take_refresh_lease(
        &self,
        bot_id: &str,
        holder: &str,
        expected_version: u64,
        until_ms: i64,
    ) -> Result<Connection, StoreError> {
        let update = Update::new(connection_key(bot_id))
            .set("refresh_lease_holder", s(holder))
            .set("refresh_lease_until_ms", n(until_ms))
            .bump_version()
            .when("#version = :v", [(":v", n(expected_version))]);
        let item = self.apply_returning(update).await?.ok_or(StoreError::Conflict)?;
        Ok(from_item::<ConnectionItem>(item).map_err(corrupt)?.connection)
    }

    async fn finish_refresh(&self, bot_id: &str, holder: &str, refreshed: &RefreshedTokens) -> Result<(), StoreError> {
        let mut update = Update::new(connection_key(bot_id))
            .set("last_refresh_at", n(refreshed.refreshed_at))
            .set_some("access_token_expires_at", refreshed.access_token_expires_at.map(n))
            .set_some("refresh_token_expires_at", refreshed.refresh_token_expires_at.map(n))
            .remove(&["refresh_lease_holder", "refresh_lease_until_ms"]);
        let due = [
            refreshed.access_token_expires_at.map(|t| t - 600),
            refreshed.refresh_token_expires_at.map(|t| t - 3 * 86_400),
        ]
        .into_iter()
        .flatten()
        .min();
        update = match due {
            Some(due) => update
                .set("due_at_ms", n(due * 1000))
                .set("due_pk", DueKind::Refresh.partition(&connection_key(bot_id))),
            None => update.remove(&["due_at_ms", "due_pk"]),
        };
        self.apply(update.when("refresh_lease_holder = :holder", [(":holder", s(holder))])).await.map(|_| ())
    }

    async fn release_refresh_lease(&self, bot_id: &str, holder: &str) -> Result<(), StoreError> {
        let update = Update::new(connection_key(bot_id))
            .remove(&["refresh_lease_holder", "refresh_lease_until_ms"])
            .when("refresh_lease_holder = :holder", [(":holder", s(holder))]);
        done_unless_failed(self.apply(update).await)
    }

    async fn list_refresh_due(&self, now_ms: i64, limit: usize) -> Result<Vec<Connection>, StoreError> {
        self.query_due(DueKind::Refresh, now_ms, limit)
            .await?
            .into_iter()
            .map(|item| from_item::<ConnectionItem>(item).map(|i| i.connection).map_err(corrupt))
            .collect()
    }

    async fn put_settings_if(
        &self,
        bot_id: &str,
        settings: &BotSettings,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        self.calls.write();
        let item = SettingsItem { pk: bot_pk(bot_id), sk: "SETTINGS".into(), settings: settings.clone() };
        let mut item: Item = to_item(item).map_err(corrupt)?;
        item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
        let mut request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        request = if expected_version == 0 {
            request.condition_expression("attribute_not_exists(pk) OR #s.#v = :zero")
        } else {
            request.condition_expression("#s.#v = :v")
        };
        let result = request
            .expression_attribute_names("#s", "settings")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(if expected_version == 0 { ":zero" } else { ":v" }, n(expected_version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put_settings(&self, bot_id: &str, settings: &BotSettings) -> Result<(), StoreError> {
        self.calls.write();
        let item = SettingsItem { pk: bot_pk(bot_id), sk: "SETTINGS".into(), settings: settings.clone() };
        let mut item: Item = to_item(item).map_err(corrupt)?;
        item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn get_conversation(
        &self,
        bot_id: &str,
        conversation_id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        self.calls.read();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(conv_key(bot_id, conversation_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(conversation_from).transpose()
    }

    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StoreError> {
        let first = next_claim(None, claim).expect("a new conversation is always claimable");
        let mut seen = match self.put_conversation(&first, "attribute_not_exists(pk)", None).await? {
            Ok(()) => return Ok(ClaimOutcome::Claimed(first)),
            Err(old) => old,
        };
        // The conversation exists: apply the shared claim rule to what is stored, and write only
        // if nobody changed it since (version check). A few rounds settle any race.
        for _ in 0..4 {
            let Some(next) = next_claim(Some(&seen), claim) else {
                return Ok(ClaimOutcome::Held(seen));
            };
            let values = HashMap::from([(":seen".to_owned(), n(seen.version))]);
            match self.put_conversation(&next, "#version = :seen", Some(values)).await? {
                Ok(()) => return Ok(ClaimOutcome::Claimed(next)),
                Err(newer) => seen = newer,
            }
        }
        Err(StoreError::Conflict)
    }

    async fn record_ticket(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        ticket: &RecordedTicket,
    ) -> Result<(), StoreError> {
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("state", s("created"))
            .set("ticket_id", n(ticket.ticket_id))
            .set("ticket_key", s(ticket_key(bot_id, ticket.account.as_deref(), ticket.ticket_id)))
            .set("ticket_status", s(ticket.status.as_str()))
            .set("notes_written", n(ticket.notes_written))
            .set("lease_until_ms", n(0))
            .set_some("account", ticket.account.as_deref().map(s))
            .set_some("last_synced_fingerprint", ticket.last_synced_fingerprint.as_deref().map(s))
            .set_some("requester_id", ticket.requester_id.map(n))
            .remove(&["pending_payload", "due_at_ms", "due_pk", "last_error"])
            .bump_version()
            .when("claim_token = :token", [(":token", s(claim_token))]);
        self.apply(update).await.map(|_| ())
    }

    async fn mark_pending(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        update: &PendingUpdate,
    ) -> Result<(), StoreError> {
        let pending = update;
        let mut update = Update::new(conv_key(bot_id, conversation_id))
            .set("notes_written", n(pending.notes_written))
            .set("attempts", n(pending.attempts))
            .set("due_at_ms", n(pending.due_at_ms))
            .set("due_pk", DueKind::Escalation.partition(&conv_key(bot_id, conversation_id)))
            .set("last_error", s(&pending.last_error))
            .set("lease_until_ms", n(0));
        if let Some(ticket_id) = pending.ticket_id {
            update = update
                .set("ticket_id", n(ticket_id))
                .set("ticket_key", s(ticket_key(bot_id, pending.account.as_deref(), ticket_id)))
                .set_some("account", pending.account.as_deref().map(s));
        }
        let update = update.bump_version().when(
            "claim_token = :token AND #state = :pending",
            [(":token", s(claim_token)), (":pending", s("pending"))],
        );
        self.apply(update).await.map(|_| ())
    }

    async fn mark_failed(
        &self,
        bot_id: &str,
        conversation_id: &str,
        claim_token: &str,
        error: &str,
    ) -> Result<(), StoreError> {
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("state", s("failed"))
            .set("last_error", s(error))
            .set("lease_until_ms", n(0))
            .remove(&["due_at_ms", "due_pk"])
            .bump_version()
            .when("claim_token = :token", [(":token", s(claim_token))]);
        self.apply(update).await.map(|_| ())
    }

    async fn acquire_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        lease: &SyncLease,
    ) -> Result<(), StoreError> {
        let (synced, fingerprint) = match &lease.synced {
            Some(fingerprint) => ("last_synced_fingerprint = :fp", Some(s(fingerprint))),
            None => ("attribute_not_exists(last_synced_fingerprint)", None),
        };
        // A record from before forwards were counted has no count: it reads as 0.
        let forwarded = if lease.forwarded_count == 0 {
            "(attribute_not_exists(forwarded_count) OR forwarded_count = :forwarded)"
        } else {
            "forwarded_count = :forwarded"
        };
        let condition = format!(
            "#state = :created AND ticket_id = :ticket AND {synced} AND {forwarded} \
             AND (attribute_not_exists(sync_lease_until_ms) OR sync_lease_until_ms <= :now)"
        );
        let mut update = Update::new(conv_key(bot_id, conversation_id))
            .set("sync_holder", s(&lease.holder))
            .set("sync_lease_until_ms", n(lease.until_ms))
            .set("sync_started_at_ms", n(lease.now_ms))
            .bump_version()
            .when(
                &condition,
                [
                    (":created", s("created")),
                    (":ticket", n(lease.ticket_id)),
                    (":now", n(lease.now_ms)),
                    (":forwarded", n(lease.forwarded_count)),
                ],
            );
        if let Some(fingerprint) = fingerprint {
            update = update.value(":fp", fingerprint);
        }
        self.apply(update).await.map(|_| ())
    }

    async fn record_synced(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("last_synced_fingerprint", s(fingerprint))
            .remove(&["sync_holder", "sync_lease_until_ms", "sync_started_at_ms"])
            .bump_version()
            .when("sync_holder = :holder", [(":holder", s(holder))]);
        self.apply(update).await.map(|_| ())
    }

    async fn record_forwarded(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        forwarded: &Forwarded,
    ) -> Result<(), StoreError> {
        let ids = AttributeValue::L(forwarded.ids.iter().map(s).collect());
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("forwarded_ids", ids)
            .set("forwarded_count", n(forwarded.count))
            .set_some("requester_id", forwarded.requester_id.map(n))
            .remove(&["sync_holder", "sync_lease_until_ms", "sync_started_at_ms"])
            .bump_version()
            .when("sync_holder = :holder", [(":holder", s(holder))]);
        self.apply(update).await.map(|_| ())
    }

    async fn note_agent(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        activity: &AgentActivity,
    ) -> Result<Option<bool>, StoreError> {
        const TICKET: &str = "ticket_id = :ticket AND (attribute_not_exists(#account) OR #account = :account)";
        let build = |reply: bool| {
            let update = Update::new(conv_key(bot_id, conversation_id))
                .set_if_absent("agent_joined_at_ms", n(activity.at_ms))
                .set_if_absent("agent_joined_event", s(&activity.event_id))
                .bump_version();
            let values = [(":ticket", n(ticket_id)), (":account", s(account)), (":at", n(activity.at_ms))];
            if reply {
                // The newest reply's time only moves forward: an older, reordered one leaves it.
                update.set("last_agent_reply_at_ms", n(activity.at_ms)).when(
                    &format!(
                        "{TICKET} AND (attribute_not_exists(last_agent_reply_at_ms) OR last_agent_reply_at_ms <= :at)"
                    ),
                    values,
                )
            } else {
                update.when(TICKET, [(":ticket", n(ticket_id)), (":account", s(account))])
            }
        };
        let mut item = self.apply_returning(build(activity.reply)).await?;
        if item.is_none() && activity.reply {
            item = self.apply_returning(build(false)).await?;
        }
        let Some(item) = item else { return Ok(None) };
        let record = conversation_from(item)?;
        Ok(Some(record.agent_joined_event.as_deref() == Some(activity.event_id.as_str())))
    }

    async fn release_sync_lease(
        &self,
        bot_id: &str,
        conversation_id: &str,
        holder: &str,
        until_ms: i64,
    ) -> Result<(), StoreError> {
        // The holder stays as a mark that its notes may be partly on the ticket.
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("sync_lease_until_ms", n(until_ms))
            .bump_version()
            .when("sync_holder = :holder", [(":holder", s(holder))]);
        done_unless_failed(self.apply(update).await)
    }

    async fn record_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        ticket_id: u64,
        status: TicketStatus,
    ) -> Result<ConversationRecord, StoreError> {
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("ticket_status", s(status.as_str()))
            .bump_version()
            .when("#state = :created AND ticket_id = :ticket", [(":created", s("created")), (":ticket", n(ticket_id))]);
        let item = self.apply_returning(update).await?.ok_or(StoreError::Conflict)?;
        conversation_from(item)
    }

    async fn apply_ticket_status(
        &self,
        bot_id: &str,
        conversation_id: &str,
        account: &str,
        ticket_id: u64,
        status: TicketStatus,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let update = Update::new(conv_key(bot_id, conversation_id))
            .set("ticket_status", s(status.as_str()))
            .set("status_at_ms", n(at_ms))
            .bump_version()
            .when(
                "ticket_id = :ticket AND (attribute_not_exists(#account) OR #account = :account) \
                 AND (attribute_not_exists(status_at_ms) OR status_at_ms <= :at)",
                [(":ticket", n(ticket_id)), (":account", s(account)), (":at", n(at_ms))],
            );
        self.apply_if(update).await
    }

    async fn list_due(&self, now_ms: i64, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        self.query_due(DueKind::Escalation, now_ms, limit).await?.into_iter().map(conversation_from).collect()
    }

    async fn unfinished_for_bot(&self, bot_id: &str, limit: usize) -> Result<Vec<ConversationRecord>, StoreError> {
        let mut unfinished = Vec::new();
        let mut start: Option<Item> = None;
        let mut read = 0;
        loop {
            self.calls.read();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :conv)")
                .filter_expression("#state IN (:pending, :failed)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":pk", s(bot_pk(bot_id)))
                .expression_attribute_values(":conv", s("CONV#"))
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":failed", s("failed"))
                .set_exclusive_start_key(start.take())
                .limit(200)
                .send()
                .await
                .map_err(unavailable)?;
            read += output.scanned_count as usize;
            for item in output.items.unwrap_or_default() {
                unfinished.push(conversation_from(item)?);
            }
            match output.last_evaluated_key {
                Some(key) if read < UNFINISHED_READ_LIMIT => start = Some(key),
                _ => break,
            }
        }
        unfinished.sort_by_key(ConversationRecord::unfinished_order);
        unfinished.truncate(limit);
        Ok(unfinished)
    }

    async fn put_visitor(&self, visitor: &VisitorRecord) -> Result<(), StoreError> {
        self.calls.write();
        let mut item: Item = to_item(visitor).map_err(corrupt)?;
        item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
        item.insert("pk".into(), s(bot_pk(&visitor.bot_id)));
        item.insert("sk".into(), s(format!("VISITOR#{}", visitor.conversation_id)));
        item.insert("expires_at".into(), self.expires_at(VISITOR_TTL_SECONDS));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn get_visitor(&self, bot_id: &str, conversation_id: &str) -> Result<Option<VisitorRecord>, StoreError> {
        self.calls.read();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(bot_pk(bot_id)))
            .key("sk", s(format!("VISITOR#{conversation_id}")))
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(|item| from_item(item).map_err(corrupt)).transpose()
    }

    async fn conversation_for_ticket(
        &self,
        bot_id: &str,
        account: &str,
        ticket_id: u64,
    ) -> Result<Option<String>, StoreError> {
        // The account's key first; then the legacy key of a record from before accounts were kept
        // (`assign_account` rewrites those when the bot moves, so they are the current account's).
        for key in [ticket_key(bot_id, Some(account), ticket_id), ticket_key(bot_id, None, ticket_id)] {
            self.calls.read();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(TICKET_INDEX)
                .key_condition_expression("ticket_key = :tk")
                .expression_attribute_values(":tk", s(key))
                .limit(1)
                .send()
                .await
                .map_err(unavailable)?;
            let sk = output.items.unwrap_or_default().into_iter().next().and_then(|mut item| item.remove("sk"));
            if let Some(AttributeValue::S(sk)) = sk {
                return Ok(sk.strip_prefix("CONV#").map(str::to_owned));
            }
        }
        Ok(None)
    }

    async fn assign_account(&self, bot_id: &str, account: &str) -> Result<usize, StoreError> {
        let mut stamped = 0;
        let mut start: Option<Item> = None;
        loop {
            self.calls.read();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :conv)")
                .filter_expression("attribute_not_exists(#account)")
                .projection_expression("pk, sk, ticket_id")
                .expression_attribute_names("#account", "account")
                .expression_attribute_values(":pk", s(bot_pk(bot_id)))
                .expression_attribute_values(":conv", s("CONV#"))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                let (Some(AttributeValue::S(sk)), ticket) = (item.get("sk"), item.get("ticket_id")) else { continue };
                let Some(conversation_id) = sk.strip_prefix("CONV#") else { continue };
                let ticket_id = match ticket {
                    Some(AttributeValue::N(ticket)) => ticket.parse::<u64>().ok(),
                    _ => None,
                };
                let update = Update::new(conv_key(bot_id, conversation_id))
                    .set("account", s(account))
                    .set_some("ticket_key", ticket_id.map(|id| s(ticket_key(bot_id, Some(account), id))))
                    .bump_version()
                    .when("attribute_exists(pk) AND attribute_not_exists(#account)", []);
                match self.apply(update).await {
                    Ok(_) => stamped += 1,
                    // Stamped or removed meanwhile: nothing left to do for it.
                    Err(StoreError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        Ok(stamped)
    }
}

fn event_key(bot_id: &str, event_id: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(bot_pk(bot_id))), ("sk".to_owned(), s(format!("EVENT#{event_id}")))])
}

fn webhook_check_key(bot_id: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(bot_pk(bot_id))), ("sk".to_owned(), s("WEBHOOK_CHECK"))])
}

fn callback_from(item: Item) -> Result<PendingCallback, StoreError> {
    from_item(item).map_err(corrupt)
}

#[async_trait]
impl CallbackOutbox for DynamoStore {
    async fn mark_event_seen(
        &self,
        bot_id: &str,
        event_id: &str,
        now_s: i64,
        callback: Option<&PendingCallback>,
    ) -> Result<bool, StoreError> {
        self.calls.write();
        let mut item: Item = match callback {
            Some(callback) => {
                let mut item: Item = to_item(callback).map_err(corrupt)?;
                item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
                if callback.due_at_ms.is_some() {
                    item.insert("due_pk".into(), DueKind::Callback.partition(&event_key(bot_id, event_id)));
                }
                item
            }
            None => Item::new(),
        };
        item.extend(event_key(bot_id, event_id));
        item.insert("expires_at".into(), n(now_s + SEEN_TTL_SECONDS.min(self.retention_s)));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list_due_callbacks(&self, now_ms: i64, limit: usize) -> Result<Vec<PendingCallback>, StoreError> {
        self.query_due(DueKind::Callback, now_ms, limit).await?.into_iter().map(callback_from).collect()
    }

    async fn claim_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<Option<PendingCallback>, StoreError> {
        // Setting the partition too moves a legacy (unsharded) callback to its shard.
        let update = Update::new(event_key(bot_id, event_id))
            .set("due_at_ms", n(next_due_at_ms))
            .set("due_pk", DueKind::Callback.partition(&event_key(bot_id, event_id)))
            .add("attempts", n(1))
            .when(
                "callback_state = :pending AND due_at_ms = :expected",
                [(":pending", s("pending")), (":expected", n(expected_due_at_ms))],
            );
        self.apply_returning(update).await?.map(callback_from).transpose()
    }

    async fn settle_callback(
        &self,
        bot_id: &str,
        event_id: &str,
        state: CallbackState,
        last_error: Option<&str>,
    ) -> Result<(), StoreError> {
        let state = match state {
            CallbackState::Pending => "pending",
            CallbackState::Delivered => "delivered",
            CallbackState::Failed => "failed",
        };
        let mut update = Update::new(event_key(bot_id, event_id)).set("callback_state", s(state));
        update = match last_error {
            Some(error) => update.set("last_error", s(error)).remove(&["due_pk", "due_at_ms"]),
            None => update.remove(&["due_pk", "due_at_ms", "last_error"]),
        };
        done_unless_failed(self.apply(update.when("attribute_exists(pk)", [])).await)
    }

    async fn schedule_webhook_check(&self, bot_id: &str, due_at_ms: i64) -> Result<(), StoreError> {
        self.calls.write();
        let mut item = webhook_check_key(bot_id);
        item.insert("bot_id".into(), s(bot_id));
        item.insert("due_pk".into(), DueKind::WebhookCheck.partition(&webhook_check_key(bot_id)));
        item.insert("due_at_ms".into(), n(due_at_ms));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn remove_webhook_check(&self, bot_id: &str) -> Result<(), StoreError> {
        self.calls.write();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(webhook_check_key(bot_id)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn list_webhook_checks_due(&self, now_ms: i64, limit: usize) -> Result<Vec<(String, i64)>, StoreError> {
        let mut due = Vec::new();
        for item in self.query_due(DueKind::WebhookCheck, now_ms, limit).await? {
            let bot = match item.get("bot_id") {
                Some(AttributeValue::S(bot)) => bot.clone(),
                _ => return Err(StoreError::Corrupt("webhook check without bot_id".into())),
            };
            let at = match item.get("due_at_ms") {
                Some(AttributeValue::N(at)) => at.parse().map_err(|_| StoreError::Corrupt("bad due_at_ms".into()))?,
                _ => return Err(StoreError::Corrupt("webhook check without due_at_ms".into())),
            };
            due.push((bot, at));
        }
        Ok(due)
    }

    async fn claim_webhook_check(
        &self,
        bot_id: &str,
        expected_due_at_ms: i64,
        next_due_at_ms: i64,
    ) -> Result<bool, StoreError> {
        // Setting the partition too moves a legacy (unsharded) check to its shard.
        let update = Update::new(webhook_check_key(bot_id))
            .set("due_at_ms", n(next_due_at_ms))
            .set("due_pk", DueKind::WebhookCheck.partition(&webhook_check_key(bot_id)))
            .when("due_at_ms = :expected", [(":expected", n(expected_due_at_ms))]);
        self.apply_if(update).await
    }
}

/// `OAUTH#{state}` / `STATE`, expiring with DynamoDB's TTL on `expires_at`.
#[derive(Serialize, Deserialize)]
struct StateItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    state: OAuthState,
}

/// `BOT#{bot}` / `AUDIT#{at}#{id}`, kept 90 days (TTL on `expires_at`).
#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    entry: AuditEntry,
    expires_at: i64,
}

/// How long audit entries are kept.
const AUDIT_TTL_SECONDS: i64 = 90 * 24 * 3600;

#[async_trait]
impl OAuthStateStore for DynamoStore {
    async fn put_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        self.calls.write();
        let item =
            to_item(StateItem { pk: format!("OAUTH#{}", state.state), sk: "STATE".into(), state: state.clone() })
                .map_err(corrupt)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn take_state(&self, state: &str, now: i64) -> Result<Option<OAuthState>, StoreError> {
        self.calls.write();
        // One delete that returns what it deleted: of two concurrent callbacks, one gets it.
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("OAUTH#{state}")))
            .key("sk", s("STATE"))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        match output.attributes.filter(|a| !a.is_empty()) {
            // TTL deletion lags: an expired item may still be there.
            Some(item) => Ok(Some(from_item::<StateItem>(item).map_err(corrupt)?.state).filter(|s| s.expires_at > now)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl AuditLog for DynamoStore {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.calls.write();
        let at = time::OffsetDateTime::parse(&entry.at, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or_default();
        let suffix = format!("{:08x}", fastrand::u32(..));
        let item = to_item(AuditItem {
            pk: bot_pk(&entry.bot_id),
            sk: format!("AUDIT#{}#{suffix}", entry.at),
            entry: entry.clone(),
            expires_at: at + AUDIT_TTL_SECONDS,
        })
        .map_err(corrupt)?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn list(&self, bot_id: &str, limit: usize, cursor: Option<&str>) -> Result<AuditPage, StoreError> {
        self.calls.read();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :audit)")
            .expression_attribute_values(":pk", s(bot_pk(bot_id)))
            .expression_attribute_values(":audit", s("AUDIT#"))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32);
        if let Some(cursor) = cursor {
            // The cursor is the last sort key returned; it names no secret.
            query = query.exclusive_start_key("pk", s(bot_pk(bot_id))).exclusive_start_key("sk", s(cursor));
        }
        let output = query.send().await.map_err(unavailable)?;
        let entries = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<AuditItem>(item).map(|i| i.entry).map_err(corrupt))
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = output.last_evaluated_key.and_then(|mut key| match key.remove("sk") {
            Some(AttributeValue::S(sk)) => Some(sk),
            _ => None,
        });
        Ok(AuditPage { entries, cursor })
    }
}
