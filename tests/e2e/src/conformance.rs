//! One conformance suite for the store ports, run against the in-process adapters, DynamoDB on
//! moto and on dynalite, and Secrets Manager on moto: the in-process adapters are only useful
//! if they behave like the real ones.

use handoff::rules::RuleKind;
use handoff::settings::BotSettings;
use handoff::store::memory::{MemorySecrets, MemoryStore};
use handoff::store::*;
use handoff::zendesk::types::TicketStatus;
use secrecy::{ExposeSecret, SecretString};

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ProjectionType};
use handoff::store::dynamodb::DUE_INDEX;

use crate::support::{Backend, dynamo_parts, dynamo_store, secrets_store, unique};

mod visitors;

fn claim(bot: &str, conv: &str, now_ms: i64, payload: &str) -> ClaimRequest {
    ClaimRequest {
        bot_id: bot.into(),
        conversation_id: conv.into(),
        claim_token: unique("token"),
        now_ms,
        lease_until_ms: now_ms + 10_000,
        rule: RuleKind::ExplicitRequest,
        requester_email: Some("ana@example.com".into()),
        requester_verified: true,
        pending_payload: payload.into(),
        account: Some("acme".into()),
    }
}

fn claimed(outcome: ClaimOutcome) -> ConversationRecord {
    match outcome {
        ClaimOutcome::Claimed(record) => record,
        ClaimOutcome::Held(record) => panic!("expected a claim, the conversation is held: {record:?}"),
    }
}

fn held(outcome: ClaimOutcome) -> ConversationRecord {
    match outcome {
        ClaimOutcome::Held(record) => record,
        ClaimOutcome::Claimed(record) => panic!("expected held, got a claim: {record:?}"),
    }
}

async fn conversation_store_conforms(store: &dyn ConversationStore) {
    let bot = unique("bot");
    let now = 1_800_000_000_000;

    // A new conversation is claimed for episode 1; a second caller sees it held.
    let first = claim(&bot, "c1", now, "payload-1");
    let record = claimed(store.claim(&first).await.unwrap());
    assert_eq!((record.episode, record.state, record.version), (1, EscalationState::Pending, 1));
    assert_eq!(record.pending_payload.as_deref(), Some("payload-1"));
    assert_eq!(record.due_at_ms, Some(first.lease_until_ms), "due when the lease ends, so abandoned work is found");
    assert!(!record.resume);
    let stored = store.get_conversation(&bot, "c1").await.unwrap().expect("stored");
    assert_eq!(stored, record);
    let other = held(store.claim(&claim(&bot, "c1", now + 1, "payload-2")).await.unwrap());
    assert_eq!(other.claim_token, first.claim_token);

    // Only the holder records the ticket; the ticket index points back to the conversation.
    let ticket = RecordedTicket {
        ticket_id: 501,
        account: Some("acme".into()),
        status: TicketStatus::New,
        notes_written: 2,
        last_synced_fingerprint: Some("fp1".into()),
        requester_id: Some(77),
    };
    assert!(matches!(store.record_ticket(&bot, "c1", "not-the-holder", &ticket).await, Err(StoreError::Conflict)));
    store.record_ticket(&bot, "c1", &first.claim_token, &ticket).await.unwrap();
    let created = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert_eq!(created.state, EscalationState::Created);
    assert_eq!((created.ticket_id, created.notes_written), (Some(501), 2));
    assert_eq!(created.pending_payload, None, "the payload is dropped once the ticket exists");
    assert_eq!(created.last_synced_fingerprint.as_deref(), Some("fp1"));
    assert_eq!((created.requester_id, created.forwarded_count), (Some(77), 0), "the requester is kept for comments");
    assert_eq!(store.conversation_for_ticket(&bot, "acme", 501).await.unwrap().as_deref(), Some("c1"));
    assert_eq!(store.conversation_for_ticket(&bot, "acme", 502).await.unwrap(), None);
    assert_eq!(store.conversation_for_ticket(&bot, "globex", 501).await.unwrap(), None, "ids are per account");

    // An open ticket holds the conversation; follow-ups add notes only under the sync lease,
    // taken on the fingerprint they read, one holder at a time.
    held(store.claim(&claim(&bot, "c1", now + 20_000, "p")).await.unwrap());
    let lease = |holder: &str, synced: Option<&str>, at: i64| SyncLease {
        holder: holder.into(),
        ticket_id: 501,
        synced: synced.map(str::to_owned),
        forwarded_count: 0,
        now_ms: at,
        until_ms: at + 10_000,
    };
    let conflict = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Conflict));
    assert!(conflict(store.record_synced(&bot, "c1", "f1", "fp2").await), "no lease, no record");
    assert!(
        conflict(
            store.acquire_sync_lease(&bot, "c1", &SyncLease { ticket_id: 999, ..lease("f1", Some("fp1"), now) }).await
        ),
        "another ticket"
    );
    assert!(conflict(store.acquire_sync_lease(&bot, "c1", &lease("f1", None, now)).await), "read a stale fingerprint");
    store.acquire_sync_lease(&bot, "c1", &lease("f1", Some("fp1"), now)).await.unwrap();
    let leased = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert!(leased.sync_leased(now) && !leased.sync_leased(now + 10_000));
    assert!(conflict(store.acquire_sync_lease(&bot, "c1", &lease("f2", Some("fp1"), now + 1)).await), "held");
    // A status write in between does not disturb the holder.
    store.apply_ticket_status(&bot, "c1", "acme", 501, TicketStatus::Open, now).await.unwrap();
    assert!(conflict(store.record_synced(&bot, "c1", "f2", "fp2").await), "only the holder records");
    store.record_synced(&bot, "c1", "f1", "fp2").await.unwrap();
    let synced = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert_eq!(synced.last_synced_fingerprint.as_deref(), Some("fp2"));
    assert_eq!((synced.sync_holder.as_deref(), synced.sync_lease_until_ms), (None, None), "released");
    assert!(
        conflict(store.acquire_sync_lease(&bot, "c1", &lease("f2", Some("fp1"), now + 2)).await),
        "synced meanwhile: its new messages are stale"
    );
    // A lease that ends frees the conversation; a release by a stranger changes nothing.
    store.acquire_sync_lease(&bot, "c1", &lease("f3", Some("fp2"), now)).await.unwrap();
    store.acquire_sync_lease(&bot, "c1", &lease("f4", Some("fp2"), now + 10_000)).await.unwrap();
    store.release_sync_lease(&bot, "c1", "f3", 0).await.unwrap();
    assert_eq!(store.get_conversation(&bot, "c1").await.unwrap().unwrap().sync_holder.as_deref(), Some("f4"));
    store.release_sync_lease(&bot, "c1", "f4", 0).await.unwrap();
    // Released at once, with the holder left as a mark that its notes may be partly written.
    let released = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert_eq!(released.sync_holder.as_deref(), Some("f4"));
    assert!(!released.sync_leased(now + 10_000), "free again at once");
    store.acquire_sync_lease(&bot, "c1", &lease("f5", Some("fp2"), now + 10_001)).await.unwrap();
    store.record_synced(&bot, "c1", "f5", "fp3").await.unwrap();
    assert_eq!(store.get_conversation(&bot, "c1").await.unwrap().unwrap().sync_holder, None, "a sync clears it");

    // Visitor messages forwarded under the same lease: only the holder records them, and a lease
    // is taken only on the forwarded count the caller read.
    let forwarded = |ids: &[&str], count| Forwarded {
        ids: ids.iter().map(|i| (*i).to_owned()).collect(),
        count,
        requester_id: Some(77),
    };
    assert!(conflict(store.record_forwarded(&bot, "c1", "v1", &forwarded(&["m1"], 1)).await), "no lease");
    store.acquire_sync_lease(&bot, "c1", &lease("v1", Some("fp3"), now + 20_000)).await.unwrap();
    store.record_forwarded(&bot, "c1", "v1", &forwarded(&["m1", "m2"], 2)).await.unwrap();
    let after = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert_eq!(
        (after.forwarded_ids.clone(), after.forwarded_count, after.sync_holder.clone()),
        (vec!["m1".to_owned(), "m2".to_owned()], 2, None)
    );
    assert!(
        conflict(store.acquire_sync_lease(&bot, "c1", &lease("v2", Some("fp3"), now + 20_001)).await),
        "forwarded meanwhile: its new messages are stale"
    );
    store
        .acquire_sync_lease(&bot, "c1", &SyncLease { forwarded_count: 2, ..lease("v2", Some("fp3"), now + 20_001) })
        .await
        .unwrap();
    // A release may keep the lease a little longer (Zendesk may still be finishing), the mark too.
    store.release_sync_lease(&bot, "c1", "v2", now + 25_000).await.unwrap();
    let kept = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert!(kept.sync_leased(now + 24_000) && !kept.sync_leased(now + 25_000));
    assert_eq!((kept.sync_holder.as_deref(), kept.sync_started_at_ms), (Some("v2"), Some(now + 20_001)));

    // Solved ends the episode: the next claim opens episode 2 and remembers the old ticket.
    assert!(
        matches!(store.record_status(&bot, "c1", 999, TicketStatus::Solved).await, Err(StoreError::Conflict)),
        "another ticket"
    );
    let solved = store.record_status(&bot, "c1", 501, TicketStatus::Solved).await.unwrap();
    assert_eq!(solved.ticket_status, Some(TicketStatus::Solved));
    let second = claim(&bot, "c1", now + 30_000, "payload-ep2");
    let episode2 = claimed(store.claim(&second).await.unwrap());
    assert_eq!((episode2.episode, episode2.previous_ticket_id, episode2.ticket_id), (2, Some(501), None));
    assert_eq!((episode2.forwarded_count, episode2.forwarded_ids.len(), episode2.requester_id), (0, 0, None));
    assert_eq!(episode2.pending_payload.as_deref(), Some("payload-ep2"));

    // Pending work is listed by due time and taken over once the lease is released.
    let update = PendingUpdate {
        ticket_id: None,
        account: Some("acme".into()),
        notes_written: 0,
        attempts: 1,
        due_at_ms: now + 60_000,
        last_error: "503".into(),
    };
    assert!(matches!(store.mark_pending(&bot, "c1", "stranger", &update).await, Err(StoreError::Conflict)));
    store.mark_pending(&bot, "c1", &second.claim_token, &update).await.unwrap();
    let due: Vec<_> =
        store.list_due(now + 60_000, 100).await.unwrap().into_iter().filter(|r| r.bot_id == bot).collect();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].attempts, due[0].last_error.as_deref()), (1, Some("503")));
    assert!(store.list_due(now + 59_999, 100).await.unwrap().iter().all(|r| r.bot_id != bot));
    let takeover = claim(&bot, "c1", now + 31_000, "payload-later");
    let resumed = claimed(store.claim(&takeover).await.unwrap());
    assert_eq!((resumed.episode, resumed.attempts, resumed.resume), (2, 1, true), "a takeover continues the episode");
    assert_eq!(resumed.pending_payload.as_deref(), Some("payload-ep2"), "the first request's payload is kept");
    let mine = |records: Vec<ConversationRecord>| records.into_iter().filter(|r| r.bot_id == bot).count();
    assert_eq!(
        mine(store.list_due(takeover.lease_until_ms - 1, 100).await.unwrap()),
        0,
        "not due while the lease lives"
    );
    assert_eq!(mine(store.list_due(takeover.lease_until_ms, 100).await.unwrap()), 1, "due again when the lease ends");

    // A failure without a ticket starts over under a new key (a new episode), looking first.
    store.mark_failed(&bot, "c1", &takeover.claim_token, "gave up").await.unwrap();
    let failed = store.get_conversation(&bot, "c1").await.unwrap().unwrap();
    assert_eq!((failed.state, failed.last_error.as_deref()), (EscalationState::Failed, Some("gave up")));
    let retried = claimed(store.claim(&claim(&bot, "c1", now + 40_000, "p")).await.unwrap());
    assert_eq!(
        (retried.episode, retried.resume, retried.attempts, retried.previous_ticket_id),
        (3, true, 0, Some(501))
    );

    // A failure that has its ticket continues the episode with fresh attempts.
    let c3 = claim(&bot, "c3", now, "payload-c3");
    claimed(store.claim(&c3).await.unwrap());
    let with_ticket = PendingUpdate {
        ticket_id: Some(777),
        account: Some("acme".into()),
        notes_written: 1,
        attempts: 5,
        due_at_ms: now,
        last_error: "503".into(),
    };
    store.mark_pending(&bot, "c3", &c3.claim_token, &with_ticket).await.unwrap();
    assert_eq!(store.conversation_for_ticket(&bot, "acme", 777).await.unwrap().as_deref(), Some("c3"));
    let c3b = claim(&bot, "c3", now + 1, "other");
    let resumed3 = claimed(store.claim(&c3b).await.unwrap());
    assert_eq!((resumed3.episode, resumed3.attempts, resumed3.ticket_id, resumed3.notes_written), (1, 5, Some(777), 1));
    store.mark_failed(&bot, "c3", &c3b.claim_token, "422").await.unwrap();
    let again3 = claimed(store.claim(&claim(&bot, "c3", now + 2, "other")).await.unwrap());
    assert_eq!((again3.episode, again3.attempts, again3.ticket_id), (1, 0, Some(777)));
    assert_eq!(again3.pending_payload.as_deref(), Some("payload-c3"));

    // An expired lease is claimable by someone else.
    let short = ClaimRequest { lease_until_ms: now + 5, ..claim(&bot, "c2", now, "x") };
    claimed(store.claim(&short).await.unwrap());
    held(store.claim(&claim(&bot, "c2", now + 4, "y")).await.unwrap());
    let late = claimed(store.claim(&claim(&bot, "c2", now + 6, "y")).await.unwrap());
    assert_eq!(late.episode, 1);
    assert_eq!(store.get_conversation(&bot, "missing").await.unwrap(), None);

    unfinished_conform(store, now).await;
    accounts_conform(store, &bot, now).await;
}

/// Ticket ids are per Zendesk account: every ticket reference is read with its account.
/// The console's list of unfinished escalations: pending and failed ones only, of this bot only,
/// the longest-running first, at most `limit`.
async fn unfinished_conform(store: &dyn ConversationStore, now: i64) {
    let bot = unique("bot");
    let other_bot = unique("bot");
    claimed(store.claim(&claim(&other_bot, "theirs", now, "p")).await.unwrap());
    let done = claim(&bot, "done", now, "p");
    claimed(store.claim(&done).await.unwrap());
    let ticket = RecordedTicket {
        ticket_id: 42,
        account: Some("acme".into()),
        status: TicketStatus::New,
        notes_written: 1,
        last_synced_fingerprint: None,
        requester_id: None,
    };
    store.record_ticket(&bot, "done", &done.claim_token, &ticket).await.unwrap();
    let failing = claim(&bot, "failed", now + 1_000, "p");
    claimed(store.claim(&failing).await.unwrap());
    store.mark_failed(&bot, "failed", &failing.claim_token, "Zendesk answered 422").await.unwrap();
    claimed(store.claim(&claim(&bot, "waiting", now + 2_000, "p")).await.unwrap());

    let unfinished = store.unfinished_for_bot(&bot, 100).await.unwrap();
    let listed: Vec<(&str, EscalationState, Option<&str>)> =
        unfinished.iter().map(|r| (r.conversation_id.as_str(), r.state, r.last_error.as_deref())).collect();
    assert_eq!(
        listed,
        [
            ("failed", EscalationState::Failed, Some("Zendesk answered 422")),
            ("waiting", EscalationState::Pending, None)
        ],
        "pending and failed, oldest work first; not the created one, not another bot's"
    );
    assert_eq!(unfinished[0].work_started_at_ms, Some(now + 1_000));
    assert_eq!(store.unfinished_for_bot(&bot, 1).await.unwrap().len(), 1, "at most the limit");
}

async fn accounts_conform(store: &dyn ConversationStore, bot: &str, now: i64) {
    let recorded = |ticket_id, account: Option<&str>| RecordedTicket {
        requester_id: None,
        ticket_id,
        account: account.map(str::to_owned),
        status: TicketStatus::Open,
        notes_written: 1,
        last_synced_fingerprint: None,
    };
    // Another account's ticket with the same number changes nothing here.
    let sandbox = claimed(store.claim(&claim(bot, "acct-1", now, "p")).await.unwrap());
    assert_eq!(sandbox.account.as_deref(), Some("acme"));
    store.record_ticket(bot, "acct-1", &sandbox.claim_token, &recorded(900, Some("acme"))).await.unwrap();
    assert!(!store.apply_ticket_status(bot, "acct-1", "globex", 900, TicketStatus::Solved, now).await.unwrap());
    assert!(store.apply_ticket_status(bot, "acct-1", "acme", 900, TicketStatus::Pending, now).await.unwrap());

    // A record from before accounts were kept counts as the current account's until the bot
    // moves; then it is stamped with the old account, index entry included.
    let legacy_claim = ClaimRequest { account: None, ..claim(bot, "acct-legacy", now, "p") };
    let legacy = claimed(store.claim(&legacy_claim).await.unwrap());
    assert_eq!(legacy.account, None);
    store.record_ticket(bot, "acct-legacy", &legacy.claim_token, &recorded(901, None)).await.unwrap();
    assert_eq!(store.conversation_for_ticket(bot, "acme", 901).await.unwrap().as_deref(), Some("acct-legacy"));
    assert_eq!(store.assign_account(bot, "acme").await.unwrap(), 1, "only the record without an account");
    assert_eq!(store.assign_account(bot, "acme").await.unwrap(), 0, "idempotent");
    let stamped = store.get_conversation(bot, "acct-legacy").await.unwrap().unwrap();
    assert_eq!((stamped.account.as_deref(), stamped.ticket_id), (Some("acme"), Some(901)));
    assert_eq!(store.conversation_for_ticket(bot, "acme", 901).await.unwrap().as_deref(), Some("acct-legacy"));
    assert_eq!(store.conversation_for_ticket(bot, "globex", 901).await.unwrap(), None);

    // A claim in the new account ends the old account's open episode: a new one, no floor.
    let moved = ClaimRequest { account: Some("globex".into()), ..claim(bot, "acct-1", now + 1, "p2") };
    let next = claimed(store.claim(&moved).await.unwrap());
    assert_eq!(
        (next.episode, next.ticket_id, next.previous_ticket_id, next.account.as_deref()),
        (2, None, None, Some("globex"))
    );
    assert_eq!(store.conversation_for_ticket(bot, "acme", 900).await.unwrap(), None, "no longer its ticket");
}

async fn bot_store_conforms(store: &dyn BotStore) {
    let bot = unique("bot");
    let empty = store.load_profile(&bot).await.unwrap();
    assert!(empty.connection.is_none() && empty.settings.is_none());
    let connection = Connection {
        scopes: vec!["tickets:write".into(), "users:read".into()],
        access_token_expires_at: Some(1_800_000_000),
        refresh_token_expires_at: Some(1_802_000_000),
        zendesk_user_id: Some(42),
        version: 3,
        ..Connection::new(&bot, "acme", ConnectionMode::Oauth)
    };
    store.put_connection(&connection).await.unwrap();
    let mut settings = BotSettings::default();
    settings.rules.low_confidence.threshold = 0.35;
    settings.mapping.metadata_fields.insert("plan".into(), 42);
    settings.handoff_messages.insert("es".into(), "Ticket {ticket_id}".into());
    store.put_settings(&bot, &settings).await.unwrap();
    let profile = store.load_profile(&bot).await.unwrap();
    assert_eq!(profile.connection, Some(connection.clone()));
    assert_eq!(profile.settings, Some(settings));

    // State changes are conditional on the version read.
    assert!(matches!(
        store.set_connection_state(&bot, 2, ConnectionState::ReconnectRequired).await,
        Err(StoreError::Conflict)
    ));
    store.set_connection_state(&bot, 3, ConnectionState::ReconnectRequired).await.unwrap();
    let changed = store.load_profile(&bot).await.unwrap().connection.unwrap();
    assert_eq!((changed.state, changed.version), (ConnectionState::ReconnectRequired, 4));
    assert_eq!(changed.subdomain, connection.subdomain);
    assert!(matches!(
        store.set_connection_state("no-such-bot", 1, ConnectionState::Connected).await,
        Err(StoreError::Conflict)
    ));
}

async fn secret_store_conforms(store: &dyn SecretStore) {
    let bot = unique("bot");
    assert!(store.get_bot_secret(&bot).await.unwrap().is_none());
    // Written the way versions before the webhook secret wrote it: the signing secret inside.
    let secret = BotSecret {
        credentials: StoredCredentials::Oauth {
            access_token: SecretString::from("access-1"),
            refresh_token: Some(SecretString::from("refresh-1")),
            access_token_expires_at: Some(1_800_000_000),
        },
        legacy_signing_secret: Some(SecretString::from("whsec")),
        legacy_callback_secret: None,
    };
    store.put_bot_secret(&bot, &secret).await.unwrap();
    store.invalidate(&bot);
    let read = store.get_bot_secret(&bot).await.unwrap().expect("stored");
    match read.credentials {
        StoredCredentials::Oauth { access_token, refresh_token, access_token_expires_at } => {
            assert_eq!(access_token.expose_secret(), "access-1");
            assert_eq!(refresh_token.unwrap().expose_secret(), "refresh-1");
            assert_eq!(access_token_expires_at, Some(1_800_000_000));
        }
        other => panic!("unexpected credentials {other:?}"),
    }
    assert_eq!(read.legacy_signing_secret.unwrap().expose_secret(), "whsec");
    assert!(store.get_webhook_secret(&bot).await.unwrap().is_none(), "a secret of its own, not a view");

    // The webhook secret: its own read and write, apart from the credentials.
    let webhook = WebhookSecret {
        webhook_signing_secret: Some(SecretString::from("whsec-2")),
        callback_secret: Some(SecretString::from("cb-1")),
        account: Some("acme".into()),
    };
    store.put_webhook_secret(&bot, &webhook).await.unwrap();
    store.invalidate(&bot);
    let read = store.get_webhook_secret(&bot).await.unwrap().expect("stored");
    assert_eq!(read.webhook_signing_secret.unwrap().expose_secret(), "whsec-2");
    assert_eq!(read.callback_secret.unwrap().expose_secret(), "cb-1");
    assert_eq!(read.account.as_deref(), Some("acme"), "the account its webhook belongs to");
    let only_callback = WebhookSecret {
        webhook_signing_secret: None,
        callback_secret: Some(SecretString::from("cb-2")),
        account: None,
    };
    store.put_webhook_secret(&bot, &only_callback).await.unwrap();
    store.invalidate(&bot);
    let read = store.get_webhook_secret(&bot).await.unwrap().expect("stored");
    assert!(read.webhook_signing_secret.is_none());
    assert_eq!(read.callback_secret.unwrap().expose_secret(), "cb-2");

    // Overwriting the credentials leaves the webhook secret alone.
    let api = BotSecret::new(StoredCredentials::ApiToken {
        email: "a@example.com".into(),
        api_token: SecretString::from("t2"),
    });
    store.put_bot_secret(&bot, &api).await.unwrap();
    store.invalidate(&bot);
    let read = store.get_bot_secret(&bot).await.unwrap().unwrap();
    assert!(matches!(read.credentials, StoredCredentials::ApiToken { .. }));
    assert!(!read.holds_legacy(), "written without the old fields, they are gone");
    assert!(store.get_webhook_secret(&bot).await.unwrap().is_some());
    // Delete (both secrets) twice: the second is harmless.
    store.delete_bot_secret(&bot).await.unwrap();
    store.delete_bot_secret(&bot).await.unwrap();
    assert!(store.get_bot_secret(&bot).await.unwrap().is_none());
    assert!(store.get_webhook_secret(&bot).await.unwrap().is_none());
    // A webhook secret alone is deleted too.
    store.put_webhook_secret(&bot, &only_callback).await.unwrap();
    store.delete_bot_secret(&bot).await.unwrap();
    assert!(store.get_webhook_secret(&bot).await.unwrap().is_none());

    let client = handoff::zendesk::oauth::OAuthClient {
        client_id: "zdg-handoff".into(),
        client_secret: SecretString::from("client-secret-1"),
    };
    store.put_oauth_client(&client).await.unwrap();
    let read = store.get_oauth_client().await.unwrap().expect("the app's client");
    assert_eq!((read.client_id.as_str(), read.client_secret.expose_secret()), ("zdg-handoff", "client-secret-1"));
}

async fn oauth_states_and_audit_conform<S: OAuthStateStore + AuditLog + ?Sized>(store: &S) {
    let now = 1_800_000_000;
    let state = OAuthState {
        state: unique("state"),
        bot_id: "b1".into(),
        subdomain: "acme".into(),
        verifier: SecretString::from("verifier-123"),
        return_url: "https://app.example.com/settings".into(),
        expires_at: now + 600,
    };
    store.put_state(&state).await.unwrap();
    assert!(matches!(store.put_state(&state).await, Err(StoreError::Conflict)), "a state is created once");
    let taken = store.take_state(&state.state, now).await.unwrap().expect("the state");
    assert_eq!((taken.bot_id.as_str(), taken.verifier.expose_secret()), ("b1", "verifier-123"));
    assert!(store.take_state(&state.state, now).await.unwrap().is_none(), "used once only");
    assert!(store.take_state("never-issued", now).await.unwrap().is_none());
    let old = OAuthState { state: unique("state"), expires_at: now - 1, ..state.clone() };
    store.put_state(&old).await.unwrap();
    assert!(store.take_state(&old.state, now).await.unwrap().is_none(), "an expired state is refused");

    let bot = unique("bot");
    for (i, action) in ["connect_started", "oauth_callback", "connected"].iter().enumerate() {
        let entry = AuditEntry {
            bot_id: bot.clone(),
            at: format!("2026-11-21T10:00:0{i}Z"),
            action: action.to_string(),
            outcome: "ok".into(),
            actor: Some("admin".into()),
            detail: [("subdomain".to_owned(), "acme".to_owned())].into(),
        };
        store.append(&entry).await.unwrap();
    }
    let first = store.list(&bot, 2, None).await.unwrap();
    let actions: Vec<&str> = first.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["connected", "oauth_callback"], "newest first");
    let rest = store.list(&bot, 2, first.cursor.as_deref()).await.unwrap();
    assert_eq!(rest.entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["connect_started"]);
    assert!(store.list(&unique("bot"), 10, None).await.unwrap().entries.is_empty());
}

async fn refresh_lease_conforms(store: &dyn BotStore) {
    let now = 1_800_000_000i64;
    let bot = unique("bot");
    let mine = |list: Vec<Connection>| list.into_iter().filter(|c| c.bot_id == bot).count();
    let connection = Connection {
        access_token_expires_at: Some(now + 300),
        refresh_token_expires_at: Some(now + 30 * 86_400),
        ..Connection::new(&bot, "acme", ConnectionMode::Oauth)
    };
    store.put_connection(&connection).await.unwrap();
    assert_eq!(mine(store.list_refresh_due(now * 1000, 100).await.unwrap()), 1, "expires within 10 minutes: due");

    let taken = store.acquire_refresh_lease(&bot, "A", now * 1000, now * 1000 + 30_000).await.unwrap();
    assert_eq!(taken.map(|c| c.refresh_lease_holder), Some(Some("A".to_owned())));
    assert!(
        store.acquire_refresh_lease(&bot, "B", now * 1000 + 1, now * 1000 + 30_000).await.unwrap().is_none(),
        "one holder"
    );
    let refreshed = RefreshedTokens {
        access_token_expires_at: Some(now + 3600),
        refresh_token_expires_at: Some(now + 30 * 86_400),
        refreshed_at: now,
    };
    assert!(
        matches!(store.finish_refresh(&bot, "B", &refreshed).await, Err(StoreError::Conflict)),
        "only the holder records"
    );
    store.finish_refresh(&bot, "A", &refreshed).await.unwrap();
    let after = store.load_profile(&bot).await.unwrap().connection.unwrap();
    assert_eq!(
        (after.access_token_expires_at, after.last_refresh_at, after.refresh_lease_holder),
        (Some(now + 3600), Some(now), None)
    );
    assert_eq!(mine(store.list_refresh_due(now * 1000, 100).await.unwrap()), 0, "not due after the refresh");
    assert_eq!(mine(store.list_refresh_due((now + 3000) * 1000, 100).await.unwrap()), 1, "due again before expiry");

    // A lease left by a crashed refresher expires; releasing is harmless for a non-holder.
    store.acquire_refresh_lease(&bot, "C", now * 1000, now * 1000 + 5).await.unwrap().unwrap();
    store.release_refresh_lease(&bot, "someone-else").await.unwrap();
    assert!(store.acquire_refresh_lease(&bot, "D", now * 1000 + 1, now * 1000 + 30_000).await.unwrap().is_none());
    assert!(store.acquire_refresh_lease(&bot, "D", now * 1000 + 6, now * 1000 + 30_000).await.unwrap().is_some());
    store.release_refresh_lease(&bot, "D").await.unwrap();

    // A reconnect takes the lease from a live holder, over the version it read, and moves the
    // version on: the holder can no longer record, and a stale take loses.
    store.acquire_refresh_lease(&bot, "G", now * 1000, now * 1000 + 30_000).await.unwrap().unwrap();
    let before = store.load_profile(&bot).await.unwrap().connection.unwrap();
    let taken = store.take_refresh_lease(&bot, "R", before.version, now * 1000 + 30_000).await.unwrap();
    assert_eq!((taken.refresh_lease_holder.as_deref(), taken.version), (Some("R"), before.version + 1));
    assert!(matches!(store.finish_refresh(&bot, "G", &refreshed).await, Err(StoreError::Conflict)));
    assert!(matches!(
        store.take_refresh_lease(&bot, "S", before.version, now * 1000 + 30_000).await,
        Err(StoreError::Conflict)
    ));
    store.release_refresh_lease(&bot, "R").await.unwrap();
    let after = store.load_profile(&bot).await.unwrap().connection.unwrap();

    // Only connected OAuth connections are refreshed.
    store.set_connection_state(&bot, after.version, ConnectionState::ReconnectRequired).await.unwrap();
    assert_eq!(mine(store.list_refresh_due((now + 9_999_999) * 1000, 100).await.unwrap()), 0);
    assert!(store.acquire_refresh_lease(&bot, "E", now * 1000, now * 1000 + 1).await.unwrap().is_none());
    let api = unique("bot");
    store.put_connection(&Connection::new(&api, "acme", ConnectionMode::ApiToken)).await.unwrap();
    assert!(store.list_refresh_due(i64::MAX / 2, 1000).await.unwrap().iter().all(|c| c.bot_id != api));
    assert!(store.acquire_refresh_lease("no-such-bot", "F", now, now + 1).await.unwrap().is_none());
}

/// The outbox: seen markers with their callbacks, claiming and settling callbacks, webhook
/// checks; plus settings written only over the version read, and visitors.
async fn outbox_conforms<S: CallbackOutbox + BotStore + ConversationStore>(store: &S) {
    let bot = unique("bot");
    let now = 1_800_000_000_000_i64;
    let callback = |event: &str, due: i64| PendingCallback {
        bot_id: bot.clone(),
        event_id: event.into(),
        conversation_id: "c1".into(),
        ticket_id: 7,
        body: format!("{{\"delivery_id\":\"{event}\"}}"),
        attempts: 1,
        due_at_ms: Some(due),
        state: CallbackState::Pending,
        last_error: None,
    };
    // Seen once; the repeat writes nothing.
    assert!(store.mark_event_seen(&bot, "e-plain", now / 1000, None).await.unwrap());
    assert!(!store.mark_event_seen(&bot, "e-plain", now / 1000, None).await.unwrap());
    assert!(store.mark_event_seen(&bot, "e-cb", now / 1000, Some(&callback("e-cb", now + 30_000))).await.unwrap());
    assert!(!store.mark_event_seen(&bot, "e-cb", now / 1000, Some(&callback("e-cb", now))).await.unwrap());
    assert!(
        store.mark_event_seen(&bot, "e-later", now / 1000, Some(&callback("e-later", now + 90_000))).await.unwrap()
    );

    // Due ones only, oldest first.
    let mine = |list: Vec<PendingCallback>| list.into_iter().filter(|c| c.bot_id == bot).collect::<Vec<_>>();
    assert!(mine(store.list_due_callbacks(now, 100).await.unwrap()).is_empty());
    let due = mine(store.list_due_callbacks(now + 60_000, 100).await.unwrap());
    assert_eq!(due, vec![callback("e-cb", now + 30_000)]);

    // One claim per due time: the second, with the same expectation, gets nothing.
    let taken = store.claim_callback(&bot, "e-cb", now + 30_000, now + 120_000).await.unwrap().expect("claimed");
    assert_eq!((taken.attempts, taken.due_at_ms), (2, Some(now + 120_000)));
    assert!(store.claim_callback(&bot, "e-cb", now + 30_000, now + 130_000).await.unwrap().is_none());
    assert!(store.claim_callback(&bot, "e-plain", now, now + 1).await.unwrap().is_none(), "no callback on it");

    // Settled: off the index, whatever the outcome.
    store.settle_callback(&bot, "e-cb", CallbackState::Delivered, None).await.unwrap();
    store.settle_callback(&bot, "e-later", CallbackState::Failed, Some("the callback URL answered 500")).await.unwrap();
    assert!(mine(store.list_due_callbacks(now + 10_000_000, 100).await.unwrap()).is_empty());
    assert!(store.claim_callback(&bot, "e-cb", now + 120_000, now + 200_000).await.unwrap().is_none());

    // Webhook checks.
    store.schedule_webhook_check(&bot, now + 1_000).await.unwrap();
    let checks = |list: Vec<(String, i64)>| list.into_iter().filter(|(b, _)| *b == bot).collect::<Vec<_>>();
    assert!(checks(store.list_webhook_checks_due(now, 100).await.unwrap()).is_empty());
    assert_eq!(
        checks(store.list_webhook_checks_due(now + 1_000, 100).await.unwrap()),
        vec![(bot.clone(), now + 1_000)]
    );
    assert!(store.claim_webhook_check(&bot, now + 1_000, now + 900_000).await.unwrap());
    assert!(!store.claim_webhook_check(&bot, now + 1_000, now + 900_000).await.unwrap(), "taken once");
    assert!(checks(store.list_webhook_checks_due(now + 2_000, 100).await.unwrap()).is_empty());
    store.remove_webhook_check(&bot).await.unwrap();
    assert!(checks(store.list_webhook_checks_due(now + 10_000_000, 100).await.unwrap()).is_empty());

    // Settings are written only over the version read.
    let mut settings = BotSettings { version: 1, ..BotSettings::default() };
    store.put_settings_if(&bot, &settings, 0).await.unwrap();
    assert!(matches!(store.put_settings_if(&bot, &settings, 0).await, Err(StoreError::Conflict)));
    settings.version = 2;
    assert!(matches!(store.put_settings_if(&bot, &settings, 5).await, Err(StoreError::Conflict)));
    store.put_settings_if(&bot, &settings, 1).await.unwrap();
    assert_eq!(store.load_profile(&bot).await.unwrap().settings.map(|s| s.version), Some(2));

    // Visitors.
    let visitor = VisitorRecord {
        bot_id: bot.clone(),
        conversation_id: "c9".into(),
        name: Some("Ana".into()),
        email: Some("ana@example.com".into()),
        phone: None,
        locale: Some("pt-BR".into()),
        email_verified: true,
        recorded_at: "2026-11-21T10:00:00.000000Z".into(),
    };
    assert_eq!(store.get_visitor(&bot, "c9").await.unwrap(), None);
    store.put_visitor(&visitor).await.unwrap();
    assert_eq!(store.get_visitor(&bot, "c9").await.unwrap(), Some(visitor));
}

#[tokio::test]
async fn memory_adapters_conform() {
    let store = MemoryStore::new();
    oauth_states_and_audit_conform(&store).await;
    refresh_lease_conforms(&store).await;
    conversation_store_conforms(&store).await;
    bot_store_conforms(&store).await;
    outbox_conforms(&store).await;
    visitors::visitors_conform(&store).await;
    secret_store_conforms(&MemorySecrets::new()).await;
}

/// The local runner's store: the memory adapter with its save-on-change journal (`redb` and a
/// 0600 secrets file). It follows the same rules, and what it wrote survives a reopen.
#[tokio::test]
async fn the_local_runners_persistent_store_conforms_and_keeps_what_it_wrote() {
    let dir = std::env::temp_dir().join(unique("handoff-local-store"));
    std::fs::create_dir_all(&dir).unwrap();
    let (db, secrets_file) = (dir.join("handoff.redb"), dir.join("secrets.json"));
    let store = handoff_local::persist::open_store(&db).expect("a new database opens");
    oauth_states_and_audit_conform(&store).await;
    refresh_lease_conforms(&store).await;
    conversation_store_conforms(&store).await;
    bot_store_conforms(&store).await;
    outbox_conforms(&store).await;
    visitors::visitors_conform(&store).await;
    secret_store_conforms(&handoff_local::persist::open_secrets(&secrets_file).expect("opens")).await;

    let bot = unique("bot");
    let settings = BotSettings { version: 1, ..BotSettings::default() };
    store.put_settings(&bot, &settings).await.unwrap();
    let claimed = claimed(store.claim(&claim(&bot, "c-kept", 1_000, "payload")).await.unwrap());
    let entry = AuditEntry {
        bot_id: bot.clone(),
        at: "2026-12-01T10:00:00Z".into(),
        action: "settings_changed".into(),
        outcome: "ok".into(),
        actor: None,
        detail: Default::default(),
    };
    store.append(&entry).await.unwrap();
    // An erasure is kept too: the erased conversation and the email do not come back.
    let mut gone = claim(&bot, "c-erased", 1_000, "payload");
    gone.requester_email = Some("gone@example.com".into());
    assert!(matches!(store.claim(&gone).await.unwrap(), ClaimOutcome::Claimed(_)));
    let about_gone = AuditEntry { actor: Some("gone@example.com".into()), ..entry.clone() };
    store.append(&about_gone).await.unwrap();
    assert_eq!(store.erase_visitor(&bot, "gone@example.com").await.unwrap().conversations, 1);
    drop(store);

    let reopened = handoff_local::persist::open_store(&db).expect("reopens");
    let profile = reopened.load_profile(&bot).await.unwrap();
    assert_eq!(profile.settings.map(|s| s.version), Some(1), "the settings survive a reopen");
    assert_eq!(reopened.get_conversation(&bot, "c-kept").await.unwrap(), Some(claimed), "and the conversation");
    let audit = reopened.list(&bot, 10, None).await.unwrap();
    assert_eq!(audit.entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["settings_changed"; 2]);
    assert!(audit.entries.iter().all(|e| e.actor.as_deref() != Some("gone@example.com")), "{:?}", audit.entries);
    assert_eq!(reopened.get_conversation(&bot, "c-erased").await.unwrap(), None, "the erasure survives a reopen");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The in-process store counts one write per write, as the per-operation budgets assume.
#[tokio::test]
async fn memory_store_counts_one_write_per_connection_change() {
    let store = MemoryStore::new();
    let bot = unique("bot");
    let connection = Connection::new(&bot, "acme", ConnectionMode::ApiToken);
    store.put_connection(&connection).await.unwrap();
    let writes = |store: &MemoryStore| store.calls.snapshot().1;
    let before = writes(&store);
    store.set_connection_state(&bot, connection.version, ConnectionState::ReconnectRequired).await.unwrap();
    assert_eq!(writes(&store) - before, 1, "set_connection_state");
    let before = writes(&store);
    store.set_webhook_id(&bot, connection.version + 1, "wh-1").await.unwrap();
    assert_eq!(writes(&store) - before, 1, "set_webhook_id");
    let before = writes(&store);
    store.touch_last_webhook(&bot, 1).await.unwrap();
    assert_eq!(writes(&store) - before, 1, "touch_last_webhook");
}

async fn dynamodb_conforms(backend: Backend) {
    let store = dynamo_store(backend).await;
    oauth_states_and_audit_conform(store.as_ref()).await;
    refresh_lease_conforms(store.as_ref()).await;
    conversation_store_conforms(store.as_ref()).await;
    bot_store_conforms(store.as_ref()).await;
    outbox_conforms(store.as_ref()).await;
    visitors::visitors_conform(store.as_ref()).await;
}

#[tokio::test]
async fn dynamodb_on_moto_conforms() {
    dynamodb_conforms(Backend::Moto).await;
}

#[tokio::test]
async fn dynamodb_on_dynalite_conforms() {
    dynamodb_conforms(Backend::Dynalite).await;
}

#[tokio::test]
async fn secrets_manager_on_moto_conforms() {
    secret_store_conforms(secrets_store().await.as_ref()).await;
}

/// How many items of each kind the due listings are tried with: enough to land in every shard.
const DUE_ITEMS: i64 = 24;

/// The due times of the listing tests: one a second before `now`, written in a scrambled order
/// so that the order listed is the index's, not the order written.
fn due_times(now_ms: i64) -> Vec<(i64, i64)> {
    (0..DUE_ITEMS).map(|i| (i * 7) % DUE_ITEMS).map(|i| (i, now_ms - (DUE_ITEMS - i) * 1_000)).collect()
}

/// Writes `DUE_ITEMS` of each kind of due work for `bot` (conversations, callbacks, webhook
/// checks of `{bot}-w{i}`, connections of `{bot}-r{i}`), plus one of each not yet due.
async fn write_due_work<S: CallbackOutbox + BotStore + ConversationStore + ?Sized>(store: &S, bot: &str, now: i64) {
    let later = now + 60_000;
    for (i, due) in due_times(now).into_iter().chain([(DUE_ITEMS, later)]) {
        let request = ClaimRequest {
            lease_until_ms: due,
            ..claim(bot, &format!("c{i}"), now - 100_000, &format!("payload-{i}"))
        };
        claimed(store.claim(&request).await.unwrap());
        let callback = PendingCallback {
            bot_id: bot.into(),
            event_id: format!("e{i}"),
            conversation_id: format!("c{i}"),
            ticket_id: 7,
            body: format!("{{\"delivery_id\":\"e{i}\"}}"),
            attempts: 1,
            due_at_ms: Some(due),
            state: CallbackState::Pending,
            last_error: None,
        };
        assert!(store.mark_event_seen(bot, &format!("e{i}"), now / 1000, Some(&callback)).await.unwrap());
        store.schedule_webhook_check(&format!("{bot}-w{i}"), due).await.unwrap();
        // Due 10 minutes before the access token expires (whole seconds).
        let connection = Connection {
            access_token_expires_at: Some(due / 1000 + 600),
            ..Connection::new(&format!("{bot}-r{i}"), "acme", ConnectionMode::Oauth)
        };
        store.put_connection(&connection).await.unwrap();
    }
}

/// Every due item listed, soonest first, `limit` kept, and whole records: the conversations'
/// payloads and the callbacks' bodies come back though the index holds only keys. `store` holds
/// nothing else.
async fn due_listings_conform<S: CallbackOutbox + BotStore + ConversationStore + ?Sized>(store: &S) {
    let bot = unique("bot");
    let now = 1_800_000_000_000_i64;
    write_due_work(store, &bot, now).await;
    let soonest: Vec<i64> = {
        let mut times: Vec<(i64, i64)> = due_times(now);
        times.sort_by_key(|(_, due)| *due);
        times.into_iter().map(|(i, _)| i).collect()
    };
    let expected = |n: usize| soonest.iter().take(n).copied().collect::<Vec<_>>();
    let index = |id: &str, prefix: &str| id.rsplit_once(prefix).expect(prefix).1.parse::<i64>().expect("an index");

    for limit in [1000, 5] {
        let want = expected(limit);
        let conversations = store.list_due(now, limit).await.unwrap();
        assert_eq!(
            conversations.iter().map(|r| index(&r.conversation_id, "c")).collect::<Vec<_>>(),
            want,
            "escalations, limit {limit}"
        );
        for record in &conversations {
            let i = index(&record.conversation_id, "c");
            assert_eq!(record.pending_payload, Some(format!("payload-{i}")), "the whole record");
            assert_eq!((record.state, record.bot_id.as_str()), (EscalationState::Pending, bot.as_str()));
        }
        let callbacks = store.list_due_callbacks(now, limit).await.unwrap();
        assert_eq!(callbacks.iter().map(|c| index(&c.event_id, "e")).collect::<Vec<_>>(), want, "callbacks, {limit}");
        for callback in &callbacks {
            assert_eq!(callback.body, format!("{{\"delivery_id\":\"{}\"}}", callback.event_id), "the body");
            assert_eq!((callback.ticket_id, callback.attempts), (7, 1));
        }
        let checks = store.list_webhook_checks_due(now, limit).await.unwrap();
        assert_eq!(checks.iter().map(|(b, _)| index(b, "-w")).collect::<Vec<_>>(), want, "webhook checks, {limit}");
        let times = due_times(now).into_iter().collect::<HashMap<_, _>>();
        assert!(checks.iter().all(|(b, at)| times[&index(b, "-w")] == *at), "each with the due time read");
        let refresh = store.list_refresh_due(now, limit).await.unwrap();
        assert_eq!(refresh.iter().map(|c| index(&c.bot_id, "-r")).collect::<Vec<_>>(), want, "refreshes, {limit}");
        assert!(refresh.iter().all(|c| c.subdomain == "acme" && c.mode == ConnectionMode::Oauth), "whole connections");
    }
}

#[tokio::test]
async fn memory_due_listings_conform() {
    due_listings_conform(&MemoryStore::new()).await;
}

/// The due listings on DynamoDB, then what only DynamoDB has: the work spread over several
/// partitions of the index, and items an older release wrote on the single unsharded partition
/// of each kind still listed, and moved to their shard by the next claim.
async fn dynamodb_due_listings_conform(backend: Backend) {
    let (client, table, store) = dynamo_parts(backend).await;
    due_listings_conform(store.as_ref()).await;

    let items = client.scan().table_name(&table).send().await.unwrap().items.unwrap_or_default();
    let partitions = |sk_prefix: &str| -> BTreeSet<String> {
        items
            .iter()
            .filter(|item| matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with(sk_prefix)))
            .filter_map(|item| item.get("due_pk").and_then(|v| v.as_s().ok()).cloned())
            .collect()
    };
    for kind in ["CONV#", "EVENT#", "WEBHOOK_CHECK", "CONNECTION"] {
        assert!(partitions(kind).len() >= 4, "{kind} items share {:?}: one hot partition", partitions(kind));
    }

    // Legacy items: one of each kind, as written before the index was sharded.
    let bot = unique("legacy");
    let now = 1_800_000_000_000_i64;
    let due = now - 500;
    let set_legacy = |pk: String, sk: &str, legacy: &str| {
        client
            .update_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .update_expression("SET due_pk = :legacy")
            .expression_attribute_values(":legacy", AttributeValue::S(legacy.to_owned()))
            .send()
    };
    claimed(
        store
            .claim(&ClaimRequest { lease_until_ms: due, ..claim(&bot, "old", now - 100_000, "old-payload") })
            .await
            .unwrap(),
    );
    set_legacy(format!("BOT#{bot}"), "CONV#old", "DUE").await.unwrap();
    let callback = PendingCallback {
        bot_id: bot.clone(),
        event_id: "old-event".into(),
        conversation_id: "old".into(),
        ticket_id: 9,
        body: "{\"delivery_id\":\"old-event\"}".into(),
        attempts: 1,
        due_at_ms: Some(due),
        state: CallbackState::Pending,
        last_error: None,
    };
    assert!(store.mark_event_seen(&bot, "old-event", now / 1000, Some(&callback)).await.unwrap());
    set_legacy(format!("BOT#{bot}"), "EVENT#old-event", "CALLBACK").await.unwrap();
    store.schedule_webhook_check(&bot, due).await.unwrap();
    set_legacy(format!("BOT#{bot}"), "WEBHOOK_CHECK", "WEBHOOK").await.unwrap();
    let connection = Connection {
        access_token_expires_at: Some(due / 1000 + 600),
        ..Connection::new(&bot, "legacy", ConnectionMode::Oauth)
    };
    store.put_connection(&connection).await.unwrap();
    set_legacy(format!("BOT#{bot}"), "CONNECTION", "REFRESH").await.unwrap();

    let conversations = store.list_due(now, 1000).await.unwrap();
    let old = conversations.iter().find(|r| r.bot_id == bot).expect("a legacy escalation is listed");
    assert_eq!(old.pending_payload.as_deref(), Some("old-payload"));
    assert_eq!(conversations.len() as i64, DUE_ITEMS + 1, "and the sharded ones still");
    let callbacks = store.list_due_callbacks(now, 1000).await.unwrap();
    assert_eq!(callbacks.iter().filter(|c| c.bot_id == bot).cloned().collect::<Vec<_>>(), vec![callback]);
    assert!(store.list_webhook_checks_due(now, 1000).await.unwrap().contains(&(bot.clone(), due)));
    assert!(store.list_refresh_due(now, 1000).await.unwrap().iter().any(|c| c.bot_id == bot));

    // The next claim of a legacy callback or webhook check moves it to its shard, so the legacy
    // partitions empty themselves.
    store.claim_callback(&bot, "old-event", due, now + 60_000).await.unwrap().expect("claimed");
    assert!(store.claim_webhook_check(&bot, due, now + 900_000).await.unwrap());
    for sk in ["EVENT#old-event", "WEBHOOK_CHECK"] {
        let item = client
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("BOT#{bot}")))
            .key("sk", AttributeValue::S(sk.into()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        let partition = item.get("due_pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        assert!(partition.contains('#'), "{sk} is still on the legacy partition {partition:?}");
    }
}

#[tokio::test]
async fn dynamodb_on_moto_due_listings_conform() {
    dynamodb_due_listings_conform(Backend::Moto).await;
}

#[tokio::test]
async fn dynamodb_on_dynalite_due_listings_conform() {
    dynamodb_due_listings_conform(Backend::Dynalite).await;
}

/// The due index holds keys only: the transcripts and callback bodies are not copied into it
/// on every write, the listings read them from the table.
async fn due_index_projects_only_keys(backend: Backend) {
    let (client, table, _) = dynamo_parts(backend).await;
    let described = client.describe_table().table_name(&table).send().await.unwrap();
    let index = described
        .table()
        .and_then(|t| t.global_secondary_indexes.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|i| i.index_name() == Some(DUE_INDEX))
        .expect("the due index");
    let projection = index.projection().expect("a projection");
    assert_eq!(projection.projection_type(), Some(&ProjectionType::KeysOnly), "{projection:?}");
    assert!(projection.non_key_attributes().is_empty(), "{projection:?}");
}

#[tokio::test]
async fn dynamodb_on_moto_due_index_projects_only_keys() {
    due_index_projects_only_keys(Backend::Moto).await;
}

#[tokio::test]
async fn dynamodb_on_dynalite_due_index_projects_only_keys() {
    due_index_projects_only_keys(Backend::Dynalite).await;
}

/// The item's `expires_at` (DynamoDB's TTL attribute), read raw.
async fn expires_at(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str, sk: &str) -> i64 {
    let item = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap_or_else(|| panic!("{pk} / {sk} is stored"));
    match item.get("expires_at") {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        other => panic!("{pk} / {sk} has no expiry: {other:?}"),
    }
}

/// Retention: every write to a conversation moves its expiry to the retention from now (its last
/// activity); visitors' session details and seen events are kept no longer than the retention.
async fn conversations_expire_the_retention_after_their_last_write(backend: Backend) {
    let (client, table, _) = dynamo_parts(backend).await;
    let store = handoff::store::dynamodb::DynamoStore::new(client.clone(), table.clone()).with_retention_days(30);
    let bot = unique("bot");
    let (pk, now_s) = (format!("BOT#{bot}"), time::OffsetDateTime::now_utc().unix_timestamp());
    let thirty_days = 30 * 86_400;
    let near = |at: i64, expected: i64| (expected - 5..=expected + 120).contains(&at);

    let record = claimed(store.claim(&claim(&bot, "c1", now_s * 1000, "p")).await.unwrap());
    let first = expires_at(&client, &table, &pk, "CONV#c1").await;
    assert!(near(first, now_s + thirty_days), "claimed: expires {first}, now {now_s}");

    // An old expiry, as if the conversation had been quiet: the next write moves it again.
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S("CONV#c1".into()))
        .update_expression("SET expires_at = :old")
        .expression_attribute_values(":old", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let ticket = RecordedTicket {
        ticket_id: 7,
        account: Some("acme".into()),
        status: TicketStatus::New,
        notes_written: 1,
        last_synced_fingerprint: None,
        requester_id: None,
    };
    store.record_ticket(&bot, "c1", &record.claim_token, &ticket).await.unwrap();
    let moved = expires_at(&client, &table, &pk, "CONV#c1").await;
    assert!(near(moved, now_s + thirty_days), "recorded: expires {moved}");

    // Session details: 90 days, or the retention when it is shorter.
    let visitor = VisitorRecord {
        bot_id: bot.clone(),
        conversation_id: "c1".into(),
        name: None,
        email: Some("ana@example.com".into()),
        phone: None,
        locale: None,
        email_verified: true,
        recorded_at: "2026-12-01T10:00:00.000000Z".into(),
    };
    store.put_visitor(&visitor).await.unwrap();
    assert!(near(expires_at(&client, &table, &pk, "VISITOR#c1").await, now_s + thirty_days));
    let default_store = handoff::store::dynamodb::DynamoStore::new(client.clone(), table.clone());
    default_store.put_visitor(&visitor).await.unwrap();
    assert!(near(expires_at(&client, &table, &pk, "VISITOR#c1").await, now_s + 90 * 86_400));
    let record = claimed(default_store.claim(&claim(&bot, "c2", now_s * 1000, "p")).await.unwrap());
    assert!(near(expires_at(&client, &table, &pk, "CONV#c2").await, now_s + 400 * 86_400), "{record:?}");
}

#[tokio::test]
async fn dynamodb_on_moto_conversations_expire_the_retention_after_their_last_write() {
    conversations_expire_the_retention_after_their_last_write(Backend::Moto).await;
}

#[tokio::test]
async fn dynamodb_on_dynalite_conversations_expire_the_retention_after_their_last_write() {
    conversations_expire_the_retention_after_their_last_write(Backend::Dynalite).await;
}
