//! The pure part of an escalation: rules, ticket mapping and transcript notes, for a typical
//! (50 messages) and a very long (10,000 messages) conversation; and the explicit-request
//! detector alone on one message; and the pipeline with the default redaction before it.
//! Figures go in the README.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use handoff::escalation::request::EscalationRequest;
use handoff::mapping::{MappingInput, plan_ticket};
use handoff::redaction::Redactor;
use handoff::rules::intent::{BotPhrases, detect};
use handoff::rules::{Decision, evaluate};
use handoff::settings::BotSettings;

fn conversation(messages: usize) -> EscalationRequest {
    let mut list: Vec<serde_json::Value> = (0..messages.saturating_sub(1))
        .map(|i| {
            serde_json::json!({
                "role": if i % 2 == 0 { "visitor" } else { "bot" },
                "text": format!("Message {i}: my parcel was due on Monday and the tracking page still says it is in transit."),
                "at": "2026-11-21T10:00:00Z",
            })
        })
        .collect();
    list.push(serde_json::json!({"role": "visitor", "text": "This is useless, can I talk to a real person?", "at": "2026-11-21T10:30:00Z"}));
    serde_json::from_value(serde_json::json!({
        "visitor": {"name": "Ana Souza", "email": "ana@example.com"},
        "agent_name": "Acme Bot",
        "signals": {"confidence": 0.8},
        "metadata": {"plan": "pro"},
        "messages": list,
    }))
    .expect("valid request")
}

fn pipeline(c: &mut Criterion) {
    let settings = BotSettings::default();
    let mut group = c.benchmark_group("rules+mapping+transcript");
    for size in [50usize, 10_000] {
        let request = conversation(size);
        group.bench_with_input(BenchmarkId::from_parameter(size), &request, |b, request| {
            b.iter(|| {
                let decision = evaluate(&settings.rules, None, &request.signals(None)).expect("rules enabled");
                let Decision::Escalate(firing) = decision else { panic!("the last message asks for a person") };
                let plan = plan_ticket(&MappingInput {
                    bot_id: "bot-1",
                    conversation_id: "conv-1",
                    request,
                    firing: &firing,
                    settings: &settings,
                });
                black_box(plan)
            })
        });
    }
    group.finish();

    // Redaction's share, measured fairly: both variants run on a fresh copy of the request (made
    // outside the timing, as the use case gets its own from the body), one with the default
    // redaction first (as the use case runs it).
    let redactor = Redactor::new(&settings.redaction).0;
    let mut group = c.benchmark_group("fresh copy, 50 messages");
    let request = conversation(50);
    let pipeline = |request: &EscalationRequest| {
        let decision = evaluate(&settings.rules, None, &request.signals(None)).expect("rules enabled");
        let Decision::Escalate(firing) = decision else { panic!("the last message asks for a person") };
        plan_ticket(&MappingInput {
            bot_id: "bot-1",
            conversation_id: "conv-1",
            request,
            firing: &firing,
            settings: &settings,
        })
    };
    group.bench_function("rules+mapping+transcript", |b| {
        b.iter_batched_ref(|| request.clone(), |request| black_box(pipeline(request)), BatchSize::SmallInput)
    });
    group.bench_function("redaction+rules+mapping+transcript", |b| {
        b.iter_batched_ref(
            || request.clone(),
            |request| {
                let redacted = request.redact(&redactor);
                black_box((pipeline(request), redacted))
            },
            BatchSize::SmallInput,
        )
    });
    // The same two, interleaved: each iteration times the pipeline on one fresh copy and
    // redaction + pipeline on another, back to back, and counts the difference, so a slower or
    // faster spell of the machine (which moves the two above by ±10% between runs) falls on both.
    // What criterion reports is redaction's added time per escalation.
    group.bench_function("redaction's added time, interleaved", |b| {
        b.iter_custom(|iters| {
            let mut added_ns: i128 = 0;
            for i in 0..iters {
                let (plain, mut masked) = (request.clone(), request.clone());
                let time_plain = || {
                    let started = std::time::Instant::now();
                    black_box(pipeline(black_box(&plain)));
                    started.elapsed().as_nanos() as i128
                };
                let mut time_masked = || {
                    let started = std::time::Instant::now();
                    let redacted = black_box(&mut masked).redact(&redactor);
                    black_box((pipeline(&masked), redacted));
                    started.elapsed().as_nanos() as i128
                };
                // Each goes first every other time, so neither gains from the other's warm caches.
                added_ns += if i % 2 == 0 {
                    let plain = time_plain();
                    time_masked() - plain
                } else {
                    let masked = time_masked();
                    masked - time_plain()
                };
            }
            std::time::Duration::from_nanos(added_ns.max(0) as u64)
        })
    });
    group.finish();

    let request = conversation(50);
    c.bench_function("redaction only (50 messages)", |b| {
        b.iter_batched_ref(|| request.clone(), |request| black_box(request.redact(&redactor)), BatchSize::SmallInput)
    });
    c.bench_function("rules only (50 messages)", |b| {
        b.iter(|| black_box(evaluate(&settings.rules, None, &request.signals(None))))
    });
}

/// About 600 characters about a late parcel, with the request for a person as its last clause.
const LONG_MESSAGE: &str = "Hi, I ordered a pair of running shoes in size 42 on the 3rd of November, order 4471, and paid extra \
    for express delivery. The tracking page said the parcel would arrive on Monday, but it has been \
    stuck at the regional depot since then and the status on the page has not changed in four days. I \
    already tried your suggestions: I checked the address on my account, I waited the extra 48 hours and \
    I read the delivery FAQ twice, but none of it explains why the parcel is not moving at all. I need \
    the shoes for a race on Saturday, so this is getting really urgent for me, and can I talk to a human \
    please";

fn explicit_request(c: &mut Criterion) {
    let phrases = BotPhrases::default();
    let cases = [
        ("short request", "can I talk to a human please", true),
        ("short non-request", "where is my order 4471?", false),
        ("long, request last", LONG_MESSAGE, true),
    ];
    let before_the_request = &LONG_MESSAGE[..LONG_MESSAGE.rfind(',').expect("clauses")];
    assert!(detect(before_the_request, &phrases).is_none(), "only the last clause asks for a person");
    let mut group = c.benchmark_group("explicit-request detection");
    for (name, text, fires) in cases {
        assert_eq!(detect(text, &phrases).is_some(), fires, "{name}");
        group.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| black_box(detect(black_box(text), &phrases)))
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline, explicit_request);
criterion_main!(benches);
