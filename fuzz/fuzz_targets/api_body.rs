//! Every JSON-bodied route of the API, in process, on a SQLite tenant store seeded with
//! the five demo tenants: the first byte picks the route, the second the tenant, the
//! rest is the body, sent with the operator's token so it reaches the deepest
//! validation. No input may answer 500 or panic; a tenant created from fuzzed profile
//! text must serve its catalog.
#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use rolecall_engine::{Engine, Options, open_store};
use rolecall_server::{AppState, Config};
use tower::ServiceExt;

const TENANTS: [&str; 5] = [
    "demo-goto-contact-center",
    "demo-horizon-contact",
    "demo-zoom-contact-center",
    "demo-phones-pro",
    "demo-contact-center-pro",
];

const ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/v1/tenants"),
    (Method::POST, "/v1/tenants/{t}/check"),
    (Method::POST, "/v1/tenants/{t}/check/batch"),
    (Method::POST, "/v1/tenants/{t}/explain"),
    (Method::POST, "/v1/tenants/{t}/lookup/subjects"),
    (Method::POST, "/v1/tenants/{t}/lookup/resources"),
    (Method::POST, "/v1/tenants/{t}/impact"),
    (Method::POST, "/v1/tenants/{t}/roles"),
    (Method::PUT, "/v1/tenants/{t}/roles/agent"),
    (Method::PUT, "/v1/tenants/{t}/roles/fuzzed"),
    (Method::POST, "/v1/tenants/{t}/assignments"),
    (Method::POST, "/v1/tenants/{t}/relations"),
    (Method::PUT, "/v1/tenants/{t}/settings"),
    (Method::POST, "/v1/tenants/{t}/sod-rules"),
    (Method::POST, "/v1/tenants/{t}/tokens"),
    (Method::POST, "/v1/tenants/{t}/credentials"),
    (Method::POST, "/v1/tenants/{t}/users"),
    (Method::PUT, "/v1/tenants/{t}/users/u1"),
    (Method::POST, "/v1/tenants/{t}/groups"),
    (Method::POST, "/v1/tenants/{t}/queues"),
    (Method::POST, "/v1/tenants/{t}/org-units"),
    (Method::PUT, "/v1/tenants/{t}/resources/conversation/c1"),
];

struct Harness {
    rt: tokio::runtime::Runtime,
    app: Router,
    op: String,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = std::env::temp_dir().join(format!("rolecall-fuzz-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let url = format!("sqlite://{}", dir.join("fuzz.db").display());
        let (app, op) = rt.block_on(async {
            let store = open_store(&url).await.expect("the store opens");
            let engine = Engine::open(store, Options::default())
                .await
                .expect("the engine opens");
            let op = engine
                .ensure_operator_token()
                .await
                .expect("a token")
                .expect("a fresh store mints one");
            engine.seed_demo().await.expect("the demo seeds");
            let config = Config {
                database_url: url.clone(),
                ..Config::default()
            };
            let state = AppState::new(engine, config).expect("the state");
            (rolecall_server::app::router(state), op)
        });
        Harness { rt, app, op }
    })
}

async fn send(h: &Harness, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", h.op))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a request");
    let res = h.app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    (status, bytes)
}

fuzz_target!(|data: &[u8]| {
    let [route, tenant, body @ ..] = data else {
        return;
    };
    let h = harness();
    let (method, template) = &ROUTES[usize::from(*route) % ROUTES.len()];
    let path = template.replace("{t}", TENANTS[usize::from(*tenant) % TENANTS.len()]);
    h.rt.block_on(async {
        let (status, answer) = send(h, method.clone(), &path, body.to_vec()).await;
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {path}: {}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            serde_json::from_slice::<serde_json::Value>(&answer).is_ok(),
            "{method} {path}: the answer is not JSON"
        );
        // A tenant created from fuzzed profile text must serve its catalog.
        if status == StatusCode::CREATED && *template == "/v1/tenants" {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            if let Some(id) = v.get("id").and_then(|i| i.as_str()) {
                let (s, a) = send(
                    h,
                    Method::GET,
                    &format!("/v1/tenants/{id}/catalog"),
                    Vec::new(),
                )
                .await;
                assert_ne!(
                    s,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "catalog: {}",
                    String::from_utf8_lossy(&a)
                );
            }
        }
    });
});
