//! Deleting an end user, as a data subject's erasure asks: a soft delete, then the permanent
//! one Zendesk requires for GDPR (`DELETE /api/v2/deleted_users/{id}`). Both need `users:write`
//! and an admin's (or a permitted agent's) credentials.

use super::client::{Account, ZendeskClient, endpoint};
use super::error::ZendeskError;
use crate::deadline::Deadline;

impl ZendeskClient {
    /// `DELETE /api/v2/users/{id}.json`; a user already gone counts as deleted.
    pub async fn delete_user(&self, account: &Account, user_id: u64, deadline: Deadline) -> Result<(), ZendeskError> {
        self.delete(account, &format!("/api/v2/users/{user_id}.json"), deadline).await
    }

    /// `DELETE /api/v2/deleted_users/{id}.json`: the user's information is removed for good. Zendesk
    /// accepts it only for a user deleted first (`delete_user`); one already gone counts as done.
    pub async fn permanently_delete_user(
        &self,
        account: &Account,
        user_id: u64,
        deadline: Deadline,
    ) -> Result<(), ZendeskError> {
        self.delete(account, &format!("/api/v2/deleted_users/{user_id}.json"), deadline).await
    }

    async fn delete(&self, account: &Account, path: &str, deadline: Deadline) -> Result<(), ZendeskError> {
        let url = endpoint(account, path)?;
        match self.send_authorized(account, deadline, |http| http.request(reqwest::Method::DELETE, url.clone())).await {
            Ok(_) | Err(ZendeskError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
