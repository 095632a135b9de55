//! The change feed and the watch streams: `/changes` paged by cursor through a revision
//! larger than a page, bad cursors, the tenant watch (`/watch`) live, resumed, across
//! nodes and ended when its authority goes, and the user permissions watch
//! (`/users/{id}/permissions/watch`) telling an agent what it gained and lost. Every
//! wait on a stream is bounded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Backend, SseEvent, SseReader, TestServer, assert_error};

const T: &str = "t";

/// Long enough for any event on a loaded machine, short enough to fail fast.
const WAIT: Duration = Duration::from_secs(10);

/// How long "nothing more comes" is watched for.
const QUIET: Duration = Duration::from_millis(700);

fn tp(path: &str) -> String {
    format!("/v1/tenants/{T}{path}")
}

/// A GoTo tenant: `adm` (Contact Admin), `ag` (Agent), `bob` (Agent); queue `q1`
/// supervised by `ag`; call `c1` in `q1`. Returns the tokens of `adm` and `ag`.
async fn goto(s: &TestServer) -> (String, String) {
    s.tenant(T, "goto-contact-center").await;
    for u in ["adm", "ag", "bob"] {
        s.user(T, u, None).await;
    }
    s.op_post(
        &tp("/queues"),
        json!({"id": "q1", "members": ["bob"], "supervisors": ["ag"]}),
    )
    .await;
    s.op_put(
        &tp("/resources/call/c1"),
        json!({"relations": {"queue": ["q1"], "agent": ["bob"]}}),
    )
    .await;
    s.op_post(
        &tp("/assignments"),
        json!({"id": "a_adm", "principal": "adm", "role": "contact_admin"}),
    )
    .await;
    for (id, u) in [("a_ag", "ag"), ("a_bob", "bob")] {
        s.op_post(
            &tp("/assignments"),
            json!({"id": id, "principal": u, "role": "agent"}),
        )
        .await;
    }
    (s.mint(T, "adm").await, s.mint(T, "ag").await)
}

/// Opens a stream that must open.
async fn open(s: &TestServer, path: &str, token: &str, last: Option<&str>) -> SseReader {
    match s.watch(path, token, last).await {
        Ok(r) => r,
        Err(r) => panic!("GET {path}: {} {}", r.status, r.text),
    }
}

/// The next event, which must come.
async fn next(r: &mut SseReader, what: &str) -> SseEvent {
    r.next(WAIT)
        .await
        .unwrap_or_else(|| panic!("no event within {WAIT:?}: {what}"))
}

/// `<revision>.<seq>` of a change event's row.
fn pos(e: &SseEvent) -> (u64, u64) {
    (
        e.data["revision"].as_u64().unwrap(),
        e.data["seq"].as_u64().unwrap(),
    )
}

/// A write of `n` relation tuples: one revision of `n` changes.
async fn bulk(s: &TestServer, n: usize) -> u64 {
    let writes: Vec<Value> = (0..n)
        .map(|i| json!({"resource": format!("call:b{i}"), "relation": "queue", "subject": "queue:q1"}))
        .collect();
    let r = s
        .post(&tp("/relations"), &s.op, json!({"writes": writes}))
        .await;
    r.expect(200);
    r.revision()
}

#[tokio::test]
async fn changes_page_through_a_revision_larger_than_the_limit() {
    let s = TestServer::start_with(|c| {
        c.relation_batch_limit = 5000;
        c.body_limit = 4 * 1024 * 1024;
    })
    .await;
    goto(&s).await;
    let before = bulk(&s, 3).await;
    let big = bulk(&s, 2500).await;
    s.user(T, "after", None).await;
    let rev = s.revision(T).await;

    // Every row from the start, in pages of 1,000 resumed by `next_cursor`.
    let mut cursor = "0.0".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = s
            .get(&tp(&format!("/changes?cursor={cursor}&limit=1000")), &s.op)
            .await;
        r.expect(200);
        assert_eq!(r.body["revision"], json!(rev));
        let rows = r.body["changes"].as_array().unwrap();
        let next = r.body["next_cursor"].as_str().unwrap().to_owned();
        if rows.is_empty() {
            assert_eq!(next, cursor, "an empty page answers the request's cursor");
            break;
        }
        pages += 1;
        assert!(rows.len() <= 1000);
        let last = rows.last().unwrap();
        assert_eq!(next, format!("{}.{}", last["revision"], last["seq"]));
        for row in rows {
            seen.push((
                row["revision"].as_u64().unwrap(),
                row["seq"].as_u64().unwrap(),
            ));
        }
        cursor = next;
    }
    assert!(pages >= 3, "{pages} pages");
    let unique: BTreeSet<(u64, u64)> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a row came twice");
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, seen, "rows out of order");
    let in_big: Vec<u64> = seen
        .iter()
        .filter(|(r, _)| *r == big)
        .map(|(_, q)| *q)
        .collect();
    assert_eq!(
        in_big,
        (0..2500).collect::<Vec<u64>>(),
        "the big revision whole"
    );
    assert!(seen.iter().any(|(r, _)| *r == before));
    assert_eq!(seen.last().unwrap().0, rev);
    // The watch from the start streams the same rows, read from the log page by page.
    let mut w = open(&s, &tp("/watch?cursor=0.0"), &s.op, None).await;
    let streamed: Vec<(u64, u64)> = w.take(seen.len(), WAIT).await.iter().map(pos).collect();
    assert_eq!(streamed, seen, "the watch streams every row once, in order");
    assert!(w.next(QUIET).await.is_none(), "nothing more");
    drop(w);

    // A page ending inside the big revision resumes inside it (the old `after=`
    // would have skipped the rest of it).
    let r = s
        .get(&tp(&format!("/changes?cursor={big}.998&limit=2")), &s.op)
        .await;
    let got: Vec<u64> = r.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(got, [999, 1000]);
    assert_eq!(r.body["next_cursor"], json!(format!("{big}.1000")));
    // `after=R` still means after the whole revision.
    let r = s.get(&tp(&format!("/changes?after={big}")), &s.op).await;
    r.expect(200);
    assert!(
        r.body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["revision"].as_u64().unwrap() > big)
    );
    let r = s.get(&tp(&format!("/changes?after={rev}")), &s.op).await;
    assert_eq!(r.body["changes"], json!([]));
    assert_eq!(r.body["next_cursor"], json!(format!("{rev}.4294967295")));
}

#[tokio::test]
async fn a_bad_cursor_is_a_400_naming_it_and_writes_nothing() {
    let s = TestServer::start().await;
    let (adm, ag) = goto(&s).await;
    let rev = s.revision(T).await;
    for path in ["/changes?cursor=abc", "/watch?cursor=abc"] {
        let r = s.get(&tp(path), &adm).await;
        assert_error(
            &r,
            400,
            Some("bad_request"),
            &[
                "cursor `abc`",
                "expected `<revision>.<sequence>`",
                "`2.999`",
            ],
        );
    }
    let r = s.get(&tp("/changes?cursor=2.1&after=2"), &adm).await;
    assert_error(&r, 400, Some("bad_request"), &["not both"]);
    let r = s
        .watch(&tp("/watch"), &adm, Some("yesterday"))
        .await
        .err()
        .unwrap();
    assert_error(&r, 400, Some("bad_request"), &["Last-Event-ID `yesterday`"]);
    let r = s
        .watch(&tp("/users/ag/permissions/watch"), &ag, Some("1.5"))
        .await
        .err()
        .unwrap();
    assert_error(
        &r,
        400,
        Some("bad_request"),
        &["Last-Event-ID `1.5`", "`<revision>`"],
    );
    assert_eq!(s.revision(T).await, rev);
}

#[tokio::test]
async fn the_tenant_watch_streams_a_change_written_after_connecting() {
    let s = TestServer::start().await;
    let (adm, _) = goto(&s).await;
    let mut w = open(&s, &tp("/watch"), &adm, None).await;
    // Nothing of the past without a cursor.
    assert!(w.next(QUIET).await.is_none(), "no event before a write");
    let r = s
        .post(
            &tp("/users"),
            &adm,
            json!({"id": "newbie", "name": "New Bie"}),
        )
        .await;
    r.expect(201);
    let rev = r.revision();
    let e = next(&mut w, "the new user").await;
    assert_eq!(e.event, "change");
    assert_eq!(e.id.as_deref(), Some(format!("{rev}.0").as_str()));
    assert_eq!(pos(&e), (rev, 0));
    assert_eq!(e.data["actor"], json!("user:adm"));
    assert!(
        e.data["change"].to_string().contains("newbie"),
        "{}",
        e.data
    );
    // A revision of several rows arrives whole, in order.
    let r = bulk(&s, 3).await;
    let got: Vec<(u64, u64)> = w.take(3, WAIT).await.iter().map(pos).collect();
    assert_eq!(got, [(r, 0), (r, 1), (r, 2)]);
    assert!(w.next(QUIET).await.is_none(), "nothing more");
}

#[tokio::test]
async fn resuming_with_last_event_id_sends_exactly_the_rows_after_it() {
    let s = TestServer::start().await;
    let (adm, _) = goto(&s).await;
    let r1 = bulk(&s, 4).await;
    s.user(T, "u2", None).await;
    let last = s.revision(T).await;
    let mut all: Vec<(u64, u64)> = Vec::new();
    let mut from_start = open(&s, &tp("/watch?cursor=0.0"), &adm, None).await;
    while let Some(e) = from_start.next(QUIET).await {
        all.push(pos(&e));
    }
    assert_eq!(all.last(), Some(&(last, 0)), "the whole log: {all:?}");
    assert!(all.contains(&(r1, 3)));
    drop(from_start);

    // Resumed in the middle of revision r1: its rows 2 and 3, then the user.
    let mut w = open(&s, &tp("/watch"), &adm, Some(&format!("{r1}.1"))).await;
    let got: Vec<(u64, u64)> = w.take(3, WAIT).await.iter().map(pos).collect();
    assert_eq!(got, [(r1, 2), (r1, 3), (last, 0)]);
    assert!(w.next(QUIET).await.is_none(), "no duplicate, nothing more");
    // And it goes on live.
    s.user(T, "u3", None).await;
    let e = next(&mut w, "u3").await;
    assert_eq!(pos(&e), (last + 1, 0));
    drop(w);

    // The query's cursor wins over the header.
    let mut w = open(
        &s,
        &tp(&format!("/watch?cursor={last}.0")),
        &adm,
        Some("0.0"),
    )
    .await;
    let e = next(&mut w, "after the cursor").await;
    assert_eq!(pos(&e), (last + 1, 0));
    assert!(w.next(QUIET).await.is_none());
}

#[tokio::test]
async fn the_tenant_watch_ends_when_the_token_is_revoked_or_the_role_removed() {
    let s = TestServer::start().await;
    let (_, _) = goto(&s).await;
    // Two admin tokens: one is revoked, the other loses its role.
    let r = s.op_post(&tp("/tokens"), json!({"principal": "adm"})).await;
    let (revoked, revoked_id) = (
        r.body["token"].as_str().unwrap().to_owned(),
        r.body["id"].as_str().unwrap().to_owned(),
    );
    let kept = s.mint(T, "adm").await;
    let mut a = open(&s, &tp("/watch"), &revoked, None).await;
    let mut b = open(&s, &tp("/watch"), &kept, None).await;

    let r = s.delete(&tp(&format!("/tokens/{revoked_id}")), &s.op).await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    s.user(T, "x1", None).await;
    let e = next(&mut a, "the end of the revoked token's stream").await;
    assert_eq!(e.event, "end", "{e:?}");
    assert!(
        e.data["reason"].as_str().unwrap().contains("token"),
        "{}",
        e.data
    );
    assert!(a.next(QUIET).await.is_none(), "the stream is closed");
    // The other stream saw the user.
    let e = next(&mut b, "x1").await;
    assert_eq!(e.event, "change");

    // The admin's role goes: that revision is not sent, the stream ends.
    let r = s.delete(&tp("/assignments/a_adm"), &s.op).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    let e = next(&mut b, "the end after the role is removed").await;
    assert_eq!(e.event, "end", "{e:?}");
    assert!(
        e.data["reason"].as_str().unwrap().contains("changes.read")
            || e.data["reason"].as_str().unwrap().contains("need"),
        "{}",
        e.data
    );
    assert!(b.next(QUIET).await.is_none());
    // And a new stream is refused.
    let r = s.watch(&tp("/watch"), &kept, None).await.err().unwrap();
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test]
async fn an_agent_may_watch_only_its_own_permissions() {
    let s = TestServer::start().await;
    let (_, ag) = goto(&s).await;
    let r = s.watch(&tp("/watch"), &ag, None).await.err().unwrap();
    assert_error(&r, 403, Some("forbidden"), &["changes.read"]);
    let r = s
        .watch(&tp("/users/bob/permissions/watch"), &ag, None)
        .await
        .err()
        .unwrap();
    // As `/users/bob/permissions` answers.
    let plain = s.get(&tp("/users/bob/permissions"), &ag).await;
    assert_eq!(r.status, plain.status);
    assert_error(&r, 403, Some("forbidden"), &["check.others"]);
    let r = s
        .watch(&tp("/users/ghost/permissions/watch"), &ag, None)
        .await
        .err()
        .unwrap();
    assert_eq!(
        r.status,
        s.get(&tp("/users/ghost/permissions"), &ag).await.status
    );
    assert!(
        s.watch(&tp("/users/ag/permissions/watch"), &ag, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_permissions_watch_tells_an_agent_what_it_gained_and_lost() {
    let s = TestServer::start().await;
    let (adm, ag) = goto(&s).await;
    let path = tp("/users/ag/permissions/watch?resource=call:c1");
    let mut w = open(&s, &path, &ag, None).await;
    let first = next(&mut w, "the snapshot").await;
    assert_eq!(first.event, "snapshot");
    let rev = s.revision(T).await;
    assert_eq!(first.id.as_deref(), Some(rev.to_string().as_str()));
    // The same JSON as the permissions route.
    let plain = s
        .get(&tp("/users/ag/permissions?resource=call:c1"), &ag)
        .await;
    assert_eq!(first.data, plain.body);
    let barge = |d: &Value| {
        d["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == json!("call.barge"))
            .unwrap()["allowed"]
            .clone()
    };
    assert_eq!(barge(&first.data), json!(false));

    // A write that does not touch the agent sends nothing.
    s.user(T, "someone", None).await;
    assert!(w.next(QUIET).await.is_none(), "nothing moved for ag");

    // The Contact Admin makes the agent a supervisor: barge on the call it supervises.
    let r = s
        .post(
            &tp("/assignments"),
            &adm,
            json!({"id": "a_sup", "principal": "ag", "role": "supervisor"}),
        )
        .await;
    r.expect(201);
    let given = r.revision();
    let e = next(&mut w, "gained").await;
    assert_eq!(e.event, "change", "{e:?}");
    assert_eq!(e.id.as_deref(), Some(given.to_string().as_str()));
    assert_eq!(e.data["revision"], json!(given));
    let text: Vec<&str> = e.data["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        text.contains(&"ag may now barge into live calls on call c1"),
        "{text:?}"
    );
    assert!(
        e.data["gained"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == json!("action") && g["id"] == json!("call.barge")),
        "{}",
        e.data
    );
    assert!(
        e.data["gained"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == json!("privilege") && g["name"] == json!("Barge into live calls")),
        "{}",
        e.data
    );
    assert_eq!(e.data["lost"], json!([]));

    // And takes it back.
    let r = s.delete(&tp("/assignments/a_sup"), &adm).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    let e = next(&mut w, "lost").await;
    let text = e.data["text"].to_string();
    assert!(
        text.contains("ag may no longer barge into live calls on call c1"),
        "{text}"
    );
    assert!(
        e.data["lost"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == json!("call.barge"))
    );
    assert_eq!(e.data["gained"], json!([]));
    drop(w);

    // Resumed from the revision before the supervisor role: the snapshot, then what
    // changed since (nothing net: given, then taken back), so no change event.
    let mut w = open(&s, &path, &ag, Some(&(given - 1).to_string())).await;
    assert_eq!(next(&mut w, "snapshot").await.event, "snapshot");
    assert!(w.next(QUIET).await.is_none(), "no net change since");
    drop(w);
    // From the revision with the role: the loss since.
    let mut w = open(&s, &format!("{path}&cursor={given}"), &ag, None).await;
    let snap = next(&mut w, "snapshot").await;
    assert_eq!(snap.event, "snapshot");
    assert_eq!(barge(&snap.data), json!(false));
    let e = next(&mut w, "the loss since the cursor").await;
    assert_eq!(e.event, "change");
    assert_eq!(e.data["since"], json!(given));
    assert!(
        e.data["text"]
            .to_string()
            .contains("ag may no longer barge into live calls on call c1")
    );
}

#[tokio::test]
async fn the_tenant_watch_sees_writes_made_on_another_node() {
    let a = TestServer::start_on(Backend::Postgres).await;
    let (adm, _) = goto(&a).await;
    let b = a.another_node().await;
    // The second node knows the tenant (it loaded it at start).
    let mut w = open(&a, &tp("/watch"), &adm, None).await;
    let r = b
        .post(
            &tp("/users"),
            &b.op,
            json!({"id": "from_b", "name": "From B"}),
        )
        .await;
    r.expect(201);
    let e = next(&mut w, "the write on the other node").await;
    assert_eq!(e.event, "change");
    assert_eq!(pos(&e), (r.revision(), 0));
    assert!(e.data["change"].to_string().contains("from_b"));
}

#[tokio::test]
async fn streams_end_when_the_server_shuts_down_and_do_not_hold_it_up() {
    let mut s = TestServer::start().await;
    let (adm, ag) = goto(&s).await;
    let mut tenant = open(&s, &tp("/watch"), &adm, None).await;
    let mut user = open(&s, &tp("/users/ag/permissions/watch"), &ag, None).await;
    assert_eq!(next(&mut user, "snapshot").await.event, "snapshot");
    let stopping = tokio::spawn(async move {
        let stopped = s.stop_within(WAIT).await;
        (stopped, s)
    });
    for w in [&mut tenant, &mut user] {
        let e = next(w, "the end at shutdown").await;
        assert_eq!(e.event, "end", "{e:?}");
        assert!(
            e.data["reason"].as_str().unwrap().contains("shutting down"),
            "{}",
            e.data
        );
        assert!(w.next(QUIET).await.is_none(), "closed after the end");
    }
    let (stopped, _s) = stopping.await.unwrap();
    assert!(stopped, "the graceful shutdown waited on the streams");
}
