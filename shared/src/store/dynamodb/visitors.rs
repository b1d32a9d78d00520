//! One visitor's data on DynamoDB. All of it lives in the bot's partition (`BOT#{bot}`), so it is
//! found by reading that partition a kind at a time, in the order `VisitorMatcher` asks for:
//! `CONV#`, `VISITOR#`, `EVENT#`, `AUDIT#`. That reads every item of the bot once per request,
//! which is what a rare, admin-initiated request can afford; no index has to carry emails.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use super::*;

/// Items per page of the partition reads.
const PAGE: i32 = 500;

/// What `find_visitor` found, with the audit items' keys for rewriting them.
struct Found {
    matcher: VisitorMatcher,
    data: VisitorData,
    audit_items: Vec<AuditItem>,
}

impl DynamoStore {
    /// Every item of the bot whose sort key starts with `prefix`, page by page, to `each`.
    async fn each_item(
        &self,
        bot_id: &str,
        prefix: &str,
        mut each: impl FnMut(Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            self.calls.read();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(bot_pk(bot_id)))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .limit(PAGE)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                each(item)?;
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(()),
            }
        }
    }

    async fn find_visitor(&self, bot_id: &str, email: &str) -> Result<Found, StoreError> {
        let mut matcher = VisitorMatcher::new(email);
        let mut data = VisitorData::default();
        self.each_item(bot_id, "CONV#", |item| {
            let record = conversation_from(item)?;
            if matcher.conversation(&record) {
                data.conversations.push(record);
            }
            Ok(())
        })
        .await?;
        self.each_item(bot_id, "VISITOR#", |item| {
            let session: VisitorRecord = from_item(item).map_err(corrupt)?;
            if matcher.session(&session) {
                data.sessions.push(session);
            }
            Ok(())
        })
        .await?;
        for conversation_id in matcher.unseen() {
            if let Some(record) = self.get_conversation(bot_id, &conversation_id).await?
                && matcher.conversation(&record)
            {
                data.conversations.push(record);
            }
        }
        self.each_item(bot_id, "EVENT#", |item| {
            // A seen marker without a callback says nothing about anyone.
            if item.contains_key("callback_body") {
                let callback = callback_from(item)?;
                if matcher.callback(&callback) {
                    data.callbacks.push(callback);
                }
            }
            Ok(())
        })
        .await?;
        let mut audit_items = Vec::new();
        self.each_item(bot_id, "AUDIT#", |item| {
            let audit: AuditItem = from_item(item).map_err(corrupt)?;
            if matcher.audit(&audit.entry) {
                data.audit.push(audit.entry.clone());
                audit_items.push(audit);
            }
            Ok(())
        })
        .await?;
        Ok(Found { matcher, data, audit_items })
    }

    /// Deletes the session if it is still the one judged (its time and email): true when deleted.
    async fn delete_session(&self, session: &VisitorRecord) -> Result<bool, StoreError> {
        let key = HashMap::from([
            ("pk".to_owned(), s(bot_pk(&session.bot_id))),
            ("sk".to_owned(), s(format!("VISITOR#{}", session.conversation_id))),
        ]);
        let mut values = vec![(":at", s(&session.recorded_at))];
        let condition = match &session.email {
            Some(email) => {
                values.push((":email", s(email)));
                "attribute_not_exists(pk) OR (#at = :at AND #email = :email)"
            }
            None => "attribute_not_exists(pk) OR (#at = :at AND attribute_not_exists(#email))",
        };
        let names = [("#at", "recorded_at"), ("#email", "email")];
        match self.delete_if(key, condition, &names, values).await {
            Ok(old) => Ok(old.is_some()),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the item if `condition` holds (Conflict otherwise), answering what it held (None
    /// when it was gone already). Attribute names are aliased in `names`, as every expression here.
    async fn delete_if(
        &self,
        key: Item,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Option<Item>, StoreError> {
        self.calls.write();
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .return_values(ReturnValue::AllOld)
            .condition_expression(condition);
        for (alias, name) in names {
            request = request.expression_attribute_names(*alias, *name);
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(placeholder, value);
        }
        match request.send().await {
            Ok(output) => Ok(output.attributes.filter(|a| !a.is_empty())),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl VisitorStore for DynamoStore {
    async fn visitor_data(&self, bot_id: &str, email: &str) -> Result<VisitorData, StoreError> {
        Ok(self.find_visitor(bot_id, email).await?.data)
    }

    async fn erase_visitor(&self, bot_id: &str, email: &str) -> Result<Erased, StoreError> {
        let Found { mut matcher, data, audit_items } = self.find_visitor(bot_id, email).await?;
        let mut erased = Erased::default();
        // Conversations go last: they are what finds the rest again if this stops part-way.
        for mut item in audit_items.into_iter().filter(|item| matcher.mentions(&item.entry)) {
            item.entry = matcher.scrub(&item.entry);
            self.calls.write();
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(&item).map_err(corrupt)?))
                // An entry that expired meanwhile stays gone.
                .condition_expression("attribute_exists(pk)")
                .send()
                .await;
            match result {
                Ok(_) => erased.audit_entries_scrubbed += 1,
                Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        for callback in &data.callbacks {
            // The event stays seen (a redelivery must not cause the callback again); its callback,
            // and its place on the due index, go.
            let update = Update::new(event_key(bot_id, &callback.event_id))
                .remove(&[
                    "callback_body",
                    "conversation_id",
                    "ticket_id",
                    "callback_state",
                    "attempts",
                    "last_error",
                    "due_pk",
                    "due_at_ms",
                    "bot_id",
                    "event_id",
                ])
                .when("attribute_exists(callback_body)", []);
            match self.apply(update).await {
                Ok(_) => erased.callbacks += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        // Sessions naming nobody are found through their conversation: they go before it.
        // Sessions naming the visitor find the conversations their escalation named nobody on:
        // they go after them. Each only as it was judged (a rewritten one is someone's new data).
        let (named, unnamed): (Vec<&VisitorRecord>, Vec<&VisitorRecord>) =
            data.sessions.iter().partition(|s| s.email.is_some());
        for session in unnamed {
            erased.sessions += u32::from(self.delete_session(session).await?);
        }
        for record in &data.conversations {
            // Only the version judged: a record that changed since is read and judged again (a
            // new episode may be someone else's).
            let mut version = record.version;
            for _ in 0..3 {
                let key = conv_key(bot_id, &record.conversation_id);
                let at_version = "attribute_not_exists(pk) OR #version = :v";
                match self.delete_if(key, at_version, &[("#version", "version")], vec![(":v", n(version))]).await {
                    Ok(Some(old)) => {
                        erased.conversation(&conversation_from(old)?);
                        break;
                    }
                    Ok(None) => break,
                    Err(StoreError::Conflict) => match self.get_conversation(bot_id, &record.conversation_id).await? {
                        Some(now) if matcher.conversation(&now) => version = now.version,
                        _ => break,
                    },
                    Err(e) => return Err(e),
                }
            }
        }
        for session in named {
            erased.sessions += u32::from(self.delete_session(session).await?);
        }
        Ok(erased)
    }
}
