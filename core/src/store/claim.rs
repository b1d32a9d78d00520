//! The claim rule: what a claim of a conversation writes over what is stored, or nothing when
//! another caller holds it. Every adapter applies this one rule (the in-process store under its
//! lock, DynamoDB as a conditional write on the version it read), so the conformance suite checks
//! one state machine, not one per adapter.

use super::conversations::{ClaimRequest, ConversationRecord, EscalationState};

/// Decides what a claim writes over `existing`, or None when the conversation is held.
pub fn next_claim(existing: Option<&ConversationRecord>, claim: &ClaimRequest) -> Option<ConversationRecord> {
    let fresh = |episode: u32, previous_ticket_id: Option<u64>, version: u64, resume: bool| ConversationRecord {
        bot_id: claim.bot_id.clone(),
        conversation_id: claim.conversation_id.clone(),
        episode,
        state: EscalationState::Pending,
        ticket_id: None,
        ticket_status: None,
        previous_ticket_id,
        account: claim.account.clone(),
        rule: Some(claim.rule),
        requester_email: claim.requester_email.clone(),
        requester_verified: claim.requester_verified,
        claim_token: claim.claim_token.clone(),
        resume,
        lease_until_ms: claim.lease_until_ms,
        attempts: 0,
        work_started_at_ms: Some(claim.now_ms),
        due_at_ms: Some(claim.lease_until_ms),
        last_error: None,
        pending_payload: Some(claim.pending_payload.clone()),
        notes_written: 0,
        last_synced_fingerprint: None,
        sync_holder: None,
        sync_lease_until_ms: None,
        sync_started_at_ms: None,
        status_at_ms: None,
        requester_id: None,
        forwarded_ids: Vec::new(),
        forwarded_count: 0,
        agent_joined_at_ms: None,
        agent_joined_event: None,
        last_agent_reply_at_ms: None,
        version,
    };
    let moved = |old: &ConversationRecord| matches!((&old.account, &claim.account), (Some(a), Some(b)) if a != b);
    match existing {
        None => Some(fresh(1, None, 1, false)),
        // The bot moved to another Zendesk account: the old account's episode ends here (its
        // ticket cannot be reached any more) and a new one starts, with no floor from there.
        Some(old) if moved(old) => {
            (!old.lease_live(claim.now_ms)).then(|| fresh(old.episode + 1, None, old.version + 1, false))
        }
        Some(old) if !old.claimable(claim.now_ms) => None,
        Some(old) if old.continues_episode() => Some(ConversationRecord {
            claim_token: claim.claim_token.clone(),
            resume: true,
            lease_until_ms: claim.lease_until_ms,
            due_at_ms: Some(claim.lease_until_ms),
            state: EscalationState::Pending,
            // A failure starts its attempts over; an interrupted worker's attempts still count.
            attempts: if old.state == EscalationState::Failed { 0 } else { old.attempts },
            // So does its give-up window; a record stored before the start was kept starts now.
            work_started_at_ms: match old.state {
                EscalationState::Failed => Some(claim.now_ms),
                _ => old.work_started_at_ms.or(Some(claim.now_ms)),
            },
            // Keep the first request's payload: it is what Zendesk may already have seen under
            // this episode's idempotency key.
            pending_payload: old.pending_payload.clone().or_else(|| Some(claim.pending_payload.clone())),
            account: old.account.clone().or_else(|| claim.account.clone()),
            version: old.version + 1,
            ..old.clone()
        }),
        // Failed before a ticket was known: start over under a new key, but look first, since a
        // create whose answer was lost may have made one (the floor is unchanged).
        Some(old) if old.state == EscalationState::Failed => {
            Some(fresh(old.episode + 1, old.previous_ticket_id, old.version + 1, true))
        }
        // The ticket was solved or closed: a new episode, a new ticket.
        Some(old) => Some(fresh(old.episode + 1, old.ticket_id.or(old.previous_ticket_id), old.version + 1, false)),
    }
}
