//! An audit trail that scales (issue 13): a burst of identical sensitive checks by one
//! caller is one entry plus one counted entry per window, not one entry per check (the
//! count is recorded, nothing is dropped); exports are streamed a page at a time and
//! complete; verification resumes from its stored checkpoint. On both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Backend, TestServer};

const T: &str = "/v1/tenants/zm";

fn listen(principal: &str) -> Value {
    json!({"principal": principal, "action": "engagement.listen",
           "resource": {"type": "engagement", "id": "e1"}})
}

/// Zoom tenant `zm`: supervisor `sam`, agent `ann` on engagement `e1`; sam's token.
async fn zoom(s: &TestServer) -> String {
    s.tenant("zm", "zoom-contact-center").await;
    for u in ["sam", "ann"] {
        s.user("zm", u, None).await;
    }
    s.op_post(
        &format!("{T}/queues"),
        json!({"id": "q1", "members": ["ann"]}),
    )
    .await
    .expect(201);
    s.op_put(
        &format!("{T}/resources/engagement/e1"),
        json!({"relations": {"agent": ["ann"], "queue": ["q1"]}, "attributes": {"channel": "voice"}}),
    )
    .await;
    s.assign("zm", "sam", "supervisor", None).await;
    s.mint("zm", "sam").await
}

async fn decisions(s: &TestServer) -> Vec<Value> {
    let r = s
        .get(&format!("{T}/audit?action=decision.&limit=10000"), &s.op)
        .await;
    r.expect(200);
    r.body["entries"].as_array().unwrap().clone()
}

async fn burst_is_counted(backend: Backend) {
    let s = Arc::new(TestServer::start_on(backend).await);
    let sam = zoom(&s).await;
    // 400 single checks from 8 concurrent clients, and a batch of 1,000: all the same
    // decision by the same caller.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (s, sam) = (s.clone(), sam.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                let r = s.post(&format!("{T}/check"), &sam, listen("sam")).await;
                r.expect(200);
                assert_eq!(r.body["allowed"], true);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let batch: Vec<Value> = (0..1000).map(|_| listen("sam")).collect();
    s.post(&format!("{T}/check/batch"), &sam, json!({"checks": batch}))
        .await
        .expect(200);
    let first = decisions(&s).await;
    assert_eq!(first.len(), 1, "one entry, not one per check: {first:#?}");
    assert_eq!(first[0]["actor"], "user:sam");
    assert_eq!(first[0]["after"]["allowed"], true);

    // Another decision (a different outcome) is its own entry at once.
    let r = s.post(&format!("{T}/check"), &s.op, listen("ann")).await;
    assert_eq!(r.body["allowed"], false);
    assert_eq!(decisions(&s).await.len(), 2);

    // The window ends: its count becomes one entry (the flush runs every second).
    s.advance_past(s.now() + 61);
    let mut all = Vec::new();
    for _ in 0..100 {
        all = decisions(&s).await;
        if all.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(all.len(), 3, "the tally's entry: {all:#?}");
    let tally = &all[2];
    assert_eq!(tally["actor"], "user:sam");
    assert_eq!(tally["target"], "engagement:e1");
    assert_eq!(tally["action"], "decision.engagement.listen");
    assert_eq!(tally["after"]["allowed"], true);
    assert_eq!(
        tally["after"]["coalesced"]["count"], 1399,
        "every repeat counted: {tally}"
    );
    // A new window: the next one is its own entry again.
    s.post(&format!("{T}/check"), &sam, listen("sam"))
        .await
        .expect(200);
    assert_eq!(decisions(&s).await.len(), 4);
    let v = s.get(&format!("{T}/audit/verify"), &s.op).await;
    assert_eq!(v.body["intact"], true, "{}", v.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_identical_checks_is_counted_not_written_each_sqlite() {
    burst_is_counted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_identical_checks_is_counted_not_written_each_postgres() {
    burst_is_counted(Backend::Postgres).await;
}

/// The response's body, chunk by chunk, with whether it declared a length.
async fn chunks(s: &TestServer, path: &str) -> (bool, usize, String) {
    let mut res = s
        .client
        .get(format!("{}{path}", s.base))
        .bearer_auth(&s.op)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let sized = res.headers().contains_key("content-length");
    let mut n = 0;
    let mut body = Vec::new();
    while let Some(c) = res.chunk().await.unwrap() {
        n += 1;
        body.extend_from_slice(&c);
    }
    (sized, n, String::from_utf8(body).unwrap())
}

async fn exports_stream(backend: Backend) {
    let s = TestServer::start_on_with(backend, |c| c.audit_window = Duration::ZERO).await;
    zoom(&s).await;
    let batch: Vec<Value> = (0..1000).map(|_| listen("sam")).collect();
    for _ in 0..3 {
        s.post(&format!("{T}/check/batch"), &s.op, json!({"checks": batch}))
            .await
            .expect(200);
    }
    let total = s.get(&format!("{T}/audit/verify"), &s.op).await.body["entries"]
        .as_u64()
        .unwrap() as usize;
    assert!(total > 3000, "{total}");

    // JSON lines: no declared length, several chunks (one per page), every entry once.
    let (sized, n, body) = chunks(&s, &format!("{T}/audit?format=jsonl")).await;
    assert!(!sized, "an export is streamed, not sized in advance");
    assert!(n >= 4, "{n} chunks for {total} entries in pages of 1,000");
    let seqs: Vec<u64> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    // CSV: the header once, then every entry.
    let (sized, n, body) = chunks(&s, &format!("{T}/audit?format=csv")).await;
    assert!(!sized && n >= 4);
    assert_eq!(body.lines().count(), total + 1);
    assert!(body.starts_with("seq,revision,at,"));
    assert_eq!(body.matches("seq,revision,at,").count(), 1);
    // A limit still bounds it, across pages.
    let (_, _, body) = chunks(&s, &format!("{T}/audit?format=jsonl&limit=1500&after=7")).await;
    let seqs: Vec<u64> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, (8..1508).collect::<Vec<_>>());

    // Verification stores its checkpoint; a resumed one reads only what came after.
    let v = s.get(&format!("{T}/audit/verify"), &s.op).await.body;
    assert_eq!(v["verified_to_seq"], json!(total), "{v}");
    assert_eq!(v["from_seq"], 0);
    s.post(&format!("{T}/check"), &s.op, listen("ann"))
        .await
        .expect(200);
    let v = s
        .get(&format!("{T}/audit/verify?resume=true"), &s.op)
        .await
        .body;
    assert_eq!(
        (
            v["intact"].clone(),
            v["from_seq"].clone(),
            v["entries"].clone()
        ),
        (json!(true), json!(total), json!(1)),
        "{v}"
    );
    // An alteration after the checkpoint is found by the resumed verification.
    let k = total + 1;
    s.raw_sql(&format!(
        "UPDATE audit SET actor = 'mallory' WHERE tenant = 'zm' AND seq = {k}"
    ))
    .await;
    let v = s
        .get(&format!("{T}/audit/verify?resume=true"), &s.op)
        .await
        .body;
    assert_eq!(v["intact"], false, "{v}");
    assert_eq!(v["first_bad_seq"], json!(k), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_and_verification_resumes_sqlite() {
    exports_stream(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_and_verification_resumes_postgres() {
    exports_stream(Backend::Postgres).await;
}

/// Rough figures (ignored; `cargo test -p rolecall-server --test audit_scale -- --ignored
/// --nocapture`): one caller's identical sensitive checks from 16 clients for 5 s, with
/// and without the coalescing window (group commit either way): checks answered,
/// decision entries written, database size; and the cost of one revocation-generation
/// read, which the token cache does at most once a millisecond.
async fn figures(backend: Backend) {
    for window in [Duration::ZERO, Duration::from_secs(60)] {
        let s = Arc::new(
            TestServer::start_on_with(backend, |c| {
                c.audit_window = window;
                c.audit_actor_budget = 0;
            })
            .await,
        );
        let sam = zoom(&s).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (s, sam) = (s.clone(), sam.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    s.post(&format!("{T}/check"), &sam, listen("sam"))
                        .await
                        .expect(200);
                    n += 1;
                }
                n
            }));
        }
        let mut checks = 0;
        for t in tasks {
            checks += t.await.unwrap();
        }
        let entries = s.get(&format!("{T}/audit/verify"), &s.op).await.body["entries"].clone();
        let size = s
            .url
            .strip_prefix("sqlite://")
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len());
        eprintln!(
            "{backend:?} window {window:?}: {checks} checks in 5 s ({} /s), {entries} audit entries, sqlite file {size:?} bytes",
            checks / 5
        );
        let store = rolecall_engine::open_store(&s.url).await.unwrap();
        let start = std::time::Instant::now();
        for _ in 0..2000 {
            store.revocation_generation().await.unwrap();
        }
        eprintln!(
            "{backend:?}: one revocation-generation read {:?}",
            start.elapsed() / 2000
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "figures, not a check"]
async fn figures_sqlite() {
    figures(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "figures, not a check"]
async fn figures_postgres() {
    figures(Backend::Postgres).await;
}

/// Distinct sensitive decisions are budgeted per caller and minute: past the budget a
/// check is refused with 429 and `Retry-After` before it is decided (so never answered
/// unaudited); repeats of a decision already audited cost nothing; the next minute
/// the budget is whole again.
async fn budget_refuses_past_it(backend: Backend) {
    let s = TestServer::start_on_with(backend, |c| c.audit_actor_budget = 5).await;
    let sam = zoom(&s).await;
    for i in 2..=7 {
        s.op_put(
            &format!("{T}/resources/engagement/e{i}"),
            json!({"relations": {"agent": ["ann"], "queue": ["q1"]}, "attributes": {"channel": "voice"}}),
        )
        .await;
    }
    let on = |i: u32| {
        json!({"principal": "sam", "action": "engagement.listen",
               "resource": {"type": "engagement", "id": format!("e{i}")}})
    };
    // Six distinct decisions in one batch: refused whole, nothing audited.
    let six: Vec<Value> = (1..=6).map(on).collect();
    let r = s
        .post(&format!("{T}/check/batch"), &sam, json!({"checks": six}))
        .await;
    r.expect(429);
    assert_eq!(r.body["error"]["code"], "rate_limited", "{}", r.text);
    assert!(decisions(&s).await.is_empty());
    // Five fit; their repeats cost nothing; a sixth is refused.
    let five: Vec<Value> = (1..=5).map(on).collect();
    s.post(&format!("{T}/check/batch"), &sam, json!({"checks": five}))
        .await
        .expect(200);
    for _ in 0..20 {
        s.post(&format!("{T}/check"), &sam, on(1)).await.expect(200);
    }
    s.post(&format!("{T}/check"), &sam, on(6)).await.expect(429);
    assert_eq!(decisions(&s).await.len(), 5);
    // Another caller has a budget of its own.
    s.post(&format!("{T}/check"), &s.op, on(6))
        .await
        .expect(200);
    // The next minute.
    s.advance_past(s.now() + 60);
    s.post(&format!("{T}/check"), &sam, on(6)).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_decisions_past_the_budget_are_refused_sqlite() {
    budget_refuses_past_it(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_decisions_past_the_budget_are_refused_postgres() {
    budget_refuses_past_it(Backend::Postgres).await;
}
