//! The visitor port (`VisitorStore`): what an export finds and an erasure removes, on every
//! adapter. Erase then export answers nothing; a second erasure is fine; another visitor's data
//! is untouched (also one whose address contains hers, and one whose conversation her session
//! names), and an erased conversation's ticket no longer leads to it.

use handoff::store::*;
use handoff::zendesk::types::TicketStatus;

use super::{claim, claimed};
use crate::support::unique;

const ANA: &str = "Ana@Example.com";
const NOW_S: i64 = 1_800_000_000;

fn callback(bot: &str, event: &str, conversation: &str) -> PendingCallback {
    PendingCallback {
        bot_id: bot.into(),
        event_id: event.into(),
        conversation_id: conversation.into(),
        ticket_id: 41,
        body: format!("{{\"delivery_id\":\"{event}\",\"text\":\"hello\"}}"),
        attempts: 1,
        due_at_ms: Some(NOW_S * 1000 + 60_000),
        state: CallbackState::Pending,
        last_error: None,
    }
}

fn session(bot: &str, conversation: &str, email: Option<&str>) -> VisitorRecord {
    VisitorRecord {
        bot_id: bot.into(),
        conversation_id: conversation.into(),
        name: Some("Someone".into()),
        email: email.map(str::to_owned),
        phone: Some("+44 20 7946 0000".into()),
        locale: Some("en".into()),
        email_verified: false,
        recorded_at: "2026-12-01T10:00:00Z".into(),
    }
}

fn entry(bot: &str, at: &str, actor: Option<&str>, detail: &[(&str, &str)]) -> AuditEntry {
    AuditEntry {
        bot_id: bot.into(),
        at: at.into(),
        action: "escalated".into(),
        outcome: "ok".into(),
        actor: actor.map(str::to_owned),
        detail: detail.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

/// Ana's data: a pending escalation, a created one with its ticket, a callback and audit entries
/// about it, and a conversation only her session names; Bob's alongside.
async fn write_two_visitors<S>(store: &S, bot: &str)
where
    S: VisitorStore + ConversationStore + CallbackOutbox + AuditLog + ?Sized,
{
    let now = NOW_S * 1000;
    let as_visitor = |conv: &str, email: Option<&str>| {
        let mut request = claim(bot, conv, now, "stored-payload");
        request.requester_email = email.map(str::to_owned);
        request
    };
    claimed(store.claim(&as_visitor("c-ana-pending", Some("ana@example.com"))).await.unwrap());
    let created = claimed(store.claim(&as_visitor("c-ana-ticket", Some("ANA@example.com"))).await.unwrap());
    let ticket = RecordedTicket {
        ticket_id: 41,
        account: Some("acme".into()),
        status: TicketStatus::Open,
        notes_written: 1,
        last_synced_fingerprint: None,
        requester_id: Some(9001),
    };
    store.record_ticket(bot, "c-ana-ticket", &created.claim_token, &ticket).await.unwrap();
    // Her session names a conversation whose escalation carried no email.
    claimed(store.claim(&as_visitor("c-ana-anonymous", None)).await.unwrap());
    store.put_visitor(&session(bot, "c-ana-anonymous", Some("ana@example.com"))).await.unwrap();
    store.put_visitor(&session(bot, "c-ana-ticket", None)).await.unwrap();
    assert!(store.mark_event_seen(bot, "e-ana", NOW_S, Some(&callback(bot, "e-ana", "c-ana-ticket"))).await.unwrap());
    store
        .append(&entry(bot, "2026-12-01T10:00:01Z", Some("ana@example.com"), &[("conversation_id", "c-ana-ticket")]))
        .await
        .unwrap();
    store
        .append(&entry(bot, "2026-12-01T10:00:02Z", None, &[("error", "Email: ana@example.com is already being used")]))
        .await
        .unwrap();
    store.append(&entry(bot, "2026-12-01T10:00:03Z", None, &[("conversation_id", "c-ana-pending")])).await.unwrap();

    // Others: an address that contains hers, and Bob's conversation whose session names her.
    store
        .append(&entry(bot, "2026-12-01T10:00:05Z", Some("jana@example.com"), &[("to", "ana@example.com.br")]))
        .await
        .unwrap();
    claimed(store.claim(&as_visitor("c-bob-shared", Some("bob@example.com"))).await.unwrap());
    store.put_visitor(&session(bot, "c-bob-shared", Some("ana@example.com"))).await.unwrap();
    claimed(store.claim(&as_visitor("c-bob", Some("bob@example.com"))).await.unwrap());
    store.put_visitor(&session(bot, "c-bob", Some("bob@example.com"))).await.unwrap();
    assert!(store.mark_event_seen(bot, "e-bob", NOW_S, Some(&callback(bot, "e-bob", "c-bob"))).await.unwrap());
    store
        .append(&entry(bot, "2026-12-01T10:00:04Z", Some("bob@example.com"), &[("conversation_id", "c-bob")]))
        .await
        .unwrap();
}

fn conversation_ids(data: &VisitorData) -> Vec<&str> {
    let mut ids: Vec<&str> = data.conversations.iter().map(|r| r.conversation_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

pub(super) async fn visitors_conform<S>(store: &S)
where
    S: VisitorStore + ConversationStore + CallbackOutbox + AuditLog + ?Sized,
{
    let bot = unique("bot");
    write_two_visitors(store, &bot).await;
    let bob_before = store.visitor_data(&bot, "bob@example.com").await.unwrap();

    let ana = store.visitor_data(&bot, ANA).await.unwrap();
    assert_eq!(conversation_ids(&ana), ["c-ana-anonymous", "c-ana-pending", "c-ana-ticket"]);
    assert!(ana.conversations.iter().any(|r| r.pending_payload.as_deref() == Some("stored-payload")));
    let mut sessions: Vec<&str> = ana.sessions.iter().map(|s| s.conversation_id.as_str()).collect();
    sessions.sort_unstable();
    assert_eq!(
        sessions,
        ["c-ana-anonymous", "c-ana-ticket", "c-bob-shared"],
        "by email (even on Bob's conversation), and of her conversations"
    );
    assert_eq!(ana.callbacks.iter().map(|c| c.event_id.as_str()).collect::<Vec<_>>(), ["e-ana"]);
    assert_eq!(ana.audit.len(), 3, "by actor, by a detail, by conversation: {:?}", ana.audit);
    assert_eq!(store.visitor_data(&bot, "nobody@example.com").await.unwrap(), VisitorData::default());
    assert_eq!(store.visitor_data("another-bot", ANA).await.unwrap(), VisitorData::default(), "per bot");

    let erased = store.erase_visitor(&bot, ANA).await.unwrap();
    let expected =
        Erased { conversations: 3, pending_payloads: 2, sessions: 3, callbacks: 1, audit_entries_scrubbed: 2 };
    assert_eq!(erased, expected);

    let after = store.visitor_data(&bot, ANA).await.unwrap();
    assert!(after.is_empty(), "erase then export answers nothing: {after:?}");
    assert_eq!(store.erase_visitor(&bot, ANA).await.unwrap(), Erased::default(), "erasing twice is fine");
    assert!(store.get_conversation(&bot, "c-ana-ticket").await.unwrap().is_none());
    assert!(store.get_visitor(&bot, "c-ana-anonymous").await.unwrap().is_none());
    assert_eq!(store.conversation_for_ticket(&bot, "acme", 41).await.unwrap(), None, "the ticket index entry went too");
    assert!(!store.mark_event_seen(&bot, "e-ana", NOW_S, None).await.unwrap(), "the event stays seen");
    let due: Vec<String> = store
        .list_due_callbacks(NOW_S * 1000 + 120_000, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.bot_id == bot)
        .map(|c| c.event_id)
        .collect();
    assert_eq!(due, ["e-bob"], "her callback is no longer due");

    let audit = store.list(&bot, 100, None).await.unwrap().entries;
    assert_eq!(audit.len(), 5, "the trail keeps its entries");
    assert!(audit.iter().any(|e| e.actor.as_deref() == Some("jana@example.com")), "another address is not hers");
    let text = serde_json::to_string(&audit).unwrap().to_ascii_lowercase();
    assert!(
        !text.replace("jana@example.com", "").replace("ana@example.com.br", "").contains("ana@example.com"),
        "{text}"
    );
    assert_eq!(text.matches(ERASED).count(), 2, "{text}");

    assert_eq!(
        conversation_ids(&bob_before),
        ["c-bob", "c-bob-shared"],
        "a session naming her does not take Bob's conversation"
    );
    assert!(store.get_conversation(&bot, "c-bob-shared").await.unwrap().is_some());
    assert_eq!(store.visitor_data(&bot, "bob@example.com").await.unwrap(), bob_before, "Bob's data is untouched");
}
