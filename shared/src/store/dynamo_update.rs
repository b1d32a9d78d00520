//! A conditional DynamoDB `UpdateItem`, built from its parts instead of written as expression
//! strings: every attribute that is set, removed or added is named by an alias (`#attr`, so a
//! reserved word such as `state` needs no care) and every value it takes gets its own placeholder
//! (`:set_attr`, `:add_attr`), and the condition's `#names` are registered from the condition
//! itself. The adapter sends it (`DynamoStore::apply`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

type Item = HashMap<String, AttributeValue>;

/// One `UpdateItem`: what it changes, on which condition, and whether the new item comes back.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub(crate) key: Item,
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    condition: Option<String>,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: Item,
    /// The item as it is after the update comes back (`DynamoStore::apply_returning` sets it).
    pub(crate) return_new: bool,
}

impl Update {
    pub fn new(key: Item) -> Self {
        Self { key, ..Self::default() }
    }

    /// `SET attr = value`.
    pub fn set(mut self, attr: &str, value: AttributeValue) -> Self {
        let alias = self.alias(attr);
        let placeholder = format!(":set_{attr}");
        self.values.insert(placeholder.clone(), value);
        self.sets.push(format!("{alias} = {placeholder}"));
        self
    }

    /// `SET attr = if_not_exists(attr, value)`: the first value written stays.
    pub fn set_if_absent(mut self, attr: &str, value: AttributeValue) -> Self {
        let alias = self.alias(attr);
        let placeholder = format!(":set_{attr}");
        self.values.insert(placeholder.clone(), value);
        self.sets.push(format!("{alias} = if_not_exists({alias}, {placeholder})"));
        self
    }

    /// `SET attr = value` when there is a value; nothing otherwise.
    pub fn set_some(self, attr: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(value) => self.set(attr, value),
            None => self,
        }
    }

    /// `REMOVE attr, …`.
    pub fn remove(mut self, attrs: &[&str]) -> Self {
        for attr in attrs {
            let alias = self.alias(attr);
            self.removes.push(alias);
        }
        self
    }

    /// `ADD attr value` (a number added to what is stored, or to 0).
    pub fn add(mut self, attr: &str, value: AttributeValue) -> Self {
        let alias = self.alias(attr);
        let placeholder = format!(":add_{attr}");
        self.values.insert(placeholder.clone(), value);
        self.adds.push(format!("{alias} {placeholder}"));
        self
    }

    /// `ADD version 1`: every change of a versioned item moves its version on.
    pub fn bump_version(self) -> Self {
        self.add("version", AttributeValue::N("1".into()))
    }

    /// The write happens only if `condition` holds (DynamoDB's syntax): its `#name`s are the
    /// attributes of that name, its `:value`s are given here.
    pub fn when<const N: usize>(mut self, condition: &str, values: [(&str, AttributeValue); N]) -> Self {
        for alias in aliases(condition) {
            self.names.insert(alias.to_owned(), alias[1..].to_owned());
        }
        for (placeholder, value) in values {
            self.values.insert(placeholder.to_owned(), value);
        }
        self.condition = Some(condition.to_owned());
        self
    }

    /// One more value for the condition (one it names only sometimes).
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// The update expression: `SET … REMOVE … ADD …`.
    pub fn expression(&self) -> String {
        let mut parts = Vec::new();
        for (keyword, clauses) in [("SET", &self.sets), ("REMOVE", &self.removes), ("ADD", &self.adds)] {
            if !clauses.is_empty() {
                parts.push(format!("{keyword} {}", clauses.join(", ")));
            }
        }
        parts.join(" ")
    }

    pub fn condition(&self) -> Option<&str> {
        self.condition.as_deref()
    }

    fn alias(&mut self, attr: &str) -> String {
        let alias = format!("#{attr}");
        self.names.insert(alias.clone(), attr.to_owned());
        alias
    }
}

/// The `#name` tokens of an expression.
fn aliases(expression: &str) -> impl Iterator<Item = &str> {
    expression.match_indices('#').map(move |(at, _)| {
        let rest = &expression[at + 1..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        &expression[at..at + 1 + end]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn names_every_attribute_and_value() {
        let update = Update::new(Item::new())
            .set("state", s("failed"))
            .set_some("last_error", Some(s("boom")))
            .set_some("ticket_id", None)
            .remove(&["due_at_ms", "due_pk"])
            .bump_version()
            .when("claim_token = :token AND #state <> :gone", [(":token", s("t")), (":gone", s("ended"))]);
        assert_eq!(
            update.expression(),
            "SET #state = :set_state, #last_error = :set_last_error REMOVE #due_at_ms, #due_pk ADD #version :add_version"
        );
        assert_eq!(update.condition(), Some("claim_token = :token AND #state <> :gone"));
        let mut names: Vec<_> = update.names.iter().map(|(k, v)| format!("{k}={v}")).collect();
        names.sort();
        assert_eq!(
            names,
            ["#due_at_ms=due_at_ms", "#due_pk=due_pk", "#last_error=last_error", "#state=state", "#version=version"]
        );
        let mut values: Vec<_> = update.values.keys().cloned().collect();
        values.sort();
        assert_eq!(values, [":add_version", ":gone", ":set_last_error", ":set_state", ":token"]);
    }

    #[test]
    fn an_update_that_only_removes_has_no_values() {
        let update = Update::new(Item::new()).remove(&["sync_holder"]).when("attribute_exists(pk)", []);
        assert_eq!(update.expression(), "REMOVE #sync_holder");
        assert!(update.values.is_empty());
    }
}
