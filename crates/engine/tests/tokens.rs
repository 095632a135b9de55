//! The token cache's negative side (issue 13): an unknown token presented again costs
//! no store lookup for the negative TTL; a token another process puts in the store is
//! accepted once that TTL has passed; minting through the engine clears it at once; a
//! lookup of a never-seen hash is made only when the caller's admission allows it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::sync::Arc;
use std::time::Duration;

use rolecall_engine::tokens::{TokenCache, hash_secret, mint};
use rolecall_engine::{Actor, Engine, EngineError, Options, open_store};
use rolecall_store::Store;

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn store(name: &str) -> (Arc<dyn Store>, Dir) {
    let dir = std::env::temp_dir().join(format!(
        "rolecall-tokens-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("t.db").display());
    (open_store(&url).await.unwrap(), Dir(dir))
}

#[tokio::test]
async fn unknown_tokens_are_remembered_until_the_ttl_passes() {
    let (store, _dir) = store("ttl").await;
    let options = Options {
        negative_token_ttl: Duration::from_millis(300),
        ..Options::default()
    };
    let engine = Engine::open(store.clone(), options).await.unwrap();
    let (secret, record) = mint(None, None, engine.now());
    for _ in 0..20 {
        let e = engine.authenticate(&secret).await.unwrap_err();
        assert!(matches!(e, EngineError::Unauthenticated(_)), "{e:?}");
    }
    let s = engine.token_stats();
    assert_eq!(s.store_lookups, 1, "{s:?}");
    assert_eq!(s.negative_hits, 19, "{s:?}");
    assert_eq!(s.unknown_remembered, 1, "{s:?}");
    // Another process (`rolecall token create`) stores it: refused within the TTL …
    store.put_token(&record).await.unwrap();
    assert!(engine.authenticate(&secret).await.is_err());
    // … accepted after it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let a = engine.authenticate(&secret).await.unwrap();
    assert!(matches!(a, Actor::Operator { .. }), "{a:?}");
    assert_eq!(engine.token_stats().store_lookups, 2);
}

#[tokio::test]
async fn minting_forgets_an_unknown_hash_at_once() {
    let (store, _dir) = store("mint").await;
    let cache = TokenCache::new(Duration::from_secs(60), 1000);
    let (secret, record) = mint(None, None, 0);
    let hash = hash_secret(&secret);
    let yes = || true;
    assert!(cache.find(&store, &hash, &yes).await.unwrap().is_none());
    store.put_token(&record).await.unwrap();
    assert!(
        cache.find(&store, &hash, &yes).await.unwrap().is_none(),
        "remembered as unknown"
    );
    cache.minted(&record);
    let found = cache.find(&store, &hash, &yes).await.unwrap();
    assert_eq!(found.map(|r| r.id), Some(record.id));
    // Minted through the engine, a token works at once, with no lookup at all.
    let engine = Engine::open(store, Options::default()).await.unwrap();
    let m = engine
        .mint_token(&Actor::System { name: "test" }, None, None)
        .await
        .unwrap();
    let before = engine.token_stats().store_lookups;
    engine.authenticate(&m.secret).await.unwrap();
    assert_eq!(engine.token_stats().store_lookups, before);
}

#[tokio::test]
async fn a_never_seen_hash_is_looked_up_only_when_admitted() {
    let (store, _dir) = store("admit").await;
    let engine = Engine::open(store.clone(), Options::default())
        .await
        .unwrap();
    let no = || false;
    let e = engine
        .authenticate_admitting("rc_never-seen", &no)
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::Throttled(_)), "{e:?}");
    let s = engine.token_stats();
    assert_eq!((s.store_lookups, s.refused_lookups), (0, 1), "{s:?}");
    // A token seen valid before never needs admission; one remembered as unknown
    // costs nothing either way.
    let (secret, record) = mint(None, None, engine.now());
    store.put_token(&record).await.unwrap();
    engine.authenticate(&secret).await.unwrap();
    engine.authenticate_admitting(&secret, &no).await.unwrap();
    let _ = engine.authenticate("rc_unknown").await;
    let e = engine
        .authenticate_admitting("rc_unknown", &no)
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::Unauthenticated(_)), "{e:?}");
    // A cache that remembers nothing (TTL zero) asks the store every time.
    let cache = TokenCache::new(Duration::ZERO, 1000);
    let yes = || true;
    for _ in 0..3 {
        assert!(
            cache
                .find(&store, &hash_secret("rc_x"), &yes)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(cache.stats().store_lookups, 3);
    assert_eq!(cache.stats().unknown_remembered, 0);
}

#[tokio::test]
async fn the_negative_cache_is_bounded() {
    let (store, _dir) = store("bound").await;
    let cache = TokenCache::new(Duration::from_secs(60), 10);
    let yes = || true;
    for i in 0..50 {
        let _ = cache
            .find(&store, &hash_secret(&format!("rc_{i}")), &yes)
            .await;
    }
    assert_eq!(cache.stats().unknown_remembered, 10);
}
