//! Deleting an end user, as a data subject's erasure asks: who the user is, a soft delete, then
//! the permanent one Zendesk requires for GDPR (`DELETE /api/v2/deleted_users/{id}`). Deleting
//! needs `users:write` and an admin's (or a permitted agent's) credentials.

use super::client::{Account, ZendeskClient, endpoint, read_json};
use super::error::ZendeskError;
use super::types::{DeletedUserResponse, User, UserResponse};
use crate::deadline::Deadline;

impl ZendeskClient {
    /// `GET /api/v2/users/{id}.json`; None for a user that does not exist (or was deleted).
    pub async fn show_user(
        &self,
        account: &Account,
        user_id: u64,
        deadline: Deadline,
    ) -> Result<Option<User>, ZendeskError> {
        let path = format!("/api/v2/users/{user_id}.json");
        Ok(self.get_if_found::<UserResponse>(account, &path, deadline).await?.map(|r| r.user))
    }

    /// `GET /api/v2/deleted_users/{id}.json`: a user deleted but not permanently yet; None when
    /// there is no such deleted user.
    pub async fn show_deleted_user(
        &self,
        account: &Account,
        user_id: u64,
        deadline: Deadline,
    ) -> Result<Option<User>, ZendeskError> {
        let path = format!("/api/v2/deleted_users/{user_id}.json");
        Ok(self.get_if_found::<DeletedUserResponse>(account, &path, deadline).await?.map(|r| r.deleted_user))
    }

    /// A GET whose 404 is an answer (None), not an error.
    async fn get_if_found<T: serde::de::DeserializeOwned>(
        &self,
        account: &Account,
        path: &str,
        deadline: Deadline,
    ) -> Result<Option<T>, ZendeskError> {
        let url = endpoint(account, path)?;
        match self.send_authorized(account, deadline, |http| http.get(url.clone())).await {
            Ok(response) => Ok(Some(read_json::<T>(response).await?)),
            Err(ZendeskError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /api/v2/users/{id}.json`: true when deleted, false when there was no such user.
    pub async fn delete_user(&self, account: &Account, user_id: u64, deadline: Deadline) -> Result<bool, ZendeskError> {
        self.delete(account, &format!("/api/v2/users/{user_id}.json"), deadline).await
    }

    /// `DELETE /api/v2/deleted_users/{id}.json`: the user's information is removed for good. Zendesk
    /// accepts it only for a user deleted first (`delete_user`): true when done, false when there
    /// was no such deleted user.
    pub async fn permanently_delete_user(
        &self,
        account: &Account,
        user_id: u64,
        deadline: Deadline,
    ) -> Result<bool, ZendeskError> {
        self.delete(account, &format!("/api/v2/deleted_users/{user_id}.json"), deadline).await
    }

    async fn delete(&self, account: &Account, path: &str, deadline: Deadline) -> Result<bool, ZendeskError> {
        let url = endpoint(account, path)?;
        match self.send_authorized(account, deadline, |http| http.request(reqwest::Method::DELETE, url.clone())).await {
            Ok(_) => Ok(true),
            Err(ZendeskError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
