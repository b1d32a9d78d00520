//! Zendesk's Webhooks API (`/api/v2/webhooks`): Handoff registers one event-subscribed webhook
//! per bot, reads its signing secret, and deletes it on disconnect.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::client::{Account, ZendeskClient};
use super::error::ZendeskError;
use crate::deadline::Deadline;

/// The events Handoff needs: status sync, agent replies, and the handoff's life (the ticket made,
/// an agent assigned).
pub const SUBSCRIPTIONS: [&str; 4] = [
    "zen:event-type:ticket.status_changed",
    "zen:event-type:ticket.comment_added",
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.agent_assignment_changed",
];

#[derive(Deserialize)]
struct WebhookEnvelope {
    webhook: WebhookId,
}

#[derive(Deserialize)]
struct WebhookId {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    subscriptions: Option<Vec<String>>,
}

/// A registered webhook as Zendesk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookState {
    /// `active` or `inactive`.
    pub status: String,
    /// Whether it is subscribed to every event Handoff needs (`SUBSCRIPTIONS`); a webhook
    /// registered by an earlier version may lack the newer ones.
    pub subscribed: bool,
}

#[derive(Deserialize)]
struct SecretEnvelope {
    signing_secret: SigningSecret,
}

#[derive(Deserialize)]
struct SigningSecret {
    secret: SecretString,
}

fn url(account: &Account, path: &str) -> Result<url::Url, ZendeskError> {
    account.base_url.join(path).map_err(|e| ZendeskError::Unexpected(format!("bad Zendesk URL: {e}")))
}

async fn read<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, ZendeskError> {
    let bytes = response.bytes().await.map_err(|e| ZendeskError::Transport(e.without_url().to_string()))?;
    // A signing-secret answer holds a secret: report only the kind of parse error.
    serde_json::from_slice(&bytes)
        .map_err(|e| ZendeskError::Unexpected(format!("webhook answer not understood ({:?})", e.classify())))
}

impl ZendeskClient {
    /// Registers an active webhook posting JSON to `endpoint`; its id.
    pub async fn create_webhook(
        &self,
        account: &Account,
        endpoint: &str,
        deadline: Deadline,
    ) -> Result<String, ZendeskError> {
        let target = url(account, "/api/v2/webhooks")?;
        let body = json!({"webhook": {
            "name": "Handoff", "status": "active", "endpoint": endpoint, "http_method": "POST",
            "request_format": "json", "subscriptions": SUBSCRIPTIONS,
        }});
        let response = self.send_once(account, deadline, |http| http.post(target.clone()).json(&body)).await?;
        Ok(read::<WebhookEnvelope>(response).await?.webhook.id)
    }

    /// Whether the webhook still exists.
    pub async fn webhook_exists(&self, account: &Account, id: &str, deadline: Deadline) -> Result<bool, ZendeskError> {
        Ok(self.webhook_status(account, id, deadline).await?.is_some())
    }

    /// The webhook's status (`active`, `inactive`), or None when Zendesk no longer has it.
    pub async fn webhook_status(
        &self,
        account: &Account,
        id: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, ZendeskError> {
        Ok(self.webhook_state(account, id, deadline).await?.map(|w| w.status))
    }

    /// The webhook's status and whether its subscriptions are complete; None when Zendesk no
    /// longer has it.
    pub async fn webhook_state(
        &self,
        account: &Account,
        id: &str,
        deadline: Deadline,
    ) -> Result<Option<WebhookState>, ZendeskError> {
        let target = url(account, &format!("/api/v2/webhooks/{id}"))?;
        match self.send_authorized(account, deadline, |http| http.get(target.clone())).await {
            Ok(response) => {
                let shown = read::<WebhookEnvelope>(response).await?.webhook;
                // An answer that does not list them is taken at its word as complete.
                let subscribed =
                    shown.subscriptions.is_none_or(|have| SUBSCRIPTIONS.iter().all(|s| have.iter().any(|h| h == s)));
                Ok(Some(WebhookState { status: shown.status.unwrap_or_else(|| "active".to_owned()), subscribed }))
            }
            Err(ZendeskError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Subscribes the webhook to every event Handoff needs (`SUBSCRIPTIONS`).
    pub async fn subscribe_webhook(&self, account: &Account, id: &str, deadline: Deadline) -> Result<(), ZendeskError> {
        self.patch_webhook(account, id, json!({"webhook": {"subscriptions": SUBSCRIPTIONS}}), deadline).await
    }

    /// Switches a deactivated webhook back on (Zendesk deactivates webhooks that keep failing,
    /// and admins can too); the id and signing secret stay the same.
    pub async fn activate_webhook(&self, account: &Account, id: &str, deadline: Deadline) -> Result<(), ZendeskError> {
        self.patch_webhook(account, id, json!({"webhook": {"status": "active"}}), deadline).await
    }

    /// `PATCH /api/v2/webhooks/{id}` with a JSON merge patch (Zendesk answers 204).
    async fn patch_webhook(
        &self,
        account: &Account,
        id: &str,
        patch: serde_json::Value,
        deadline: Deadline,
    ) -> Result<(), ZendeskError> {
        let target = url(account, &format!("/api/v2/webhooks/{id}"))?;
        self.send_authorized(account, deadline, |http| {
            http.request(Method::PATCH, target.clone())
                .header("content-type", "application/merge-patch+json")
                .body(patch.to_string())
        })
        .await?;
        Ok(())
    }

    /// The webhook's signing secret.
    pub async fn webhook_signing_secret(
        &self,
        account: &Account,
        id: &str,
        deadline: Deadline,
    ) -> Result<SecretString, ZendeskError> {
        let target = url(account, &format!("/api/v2/webhooks/{id}/signing_secret"))?;
        let response = self.send_authorized(account, deadline, |http| http.get(target.clone())).await?;
        Ok(read::<SecretEnvelope>(response).await?.signing_secret.secret)
    }

    /// Deletes the webhook; one that is already gone counts as deleted.
    pub async fn delete_webhook(&self, account: &Account, id: &str, deadline: Deadline) -> Result<(), ZendeskError> {
        let target = url(account, &format!("/api/v2/webhooks/{id}"))?;
        match self.send_authorized(account, deadline, |http| http.request(Method::DELETE, target.clone())).await {
            Ok(_) | Err(ZendeskError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
