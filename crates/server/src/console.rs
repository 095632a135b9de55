//! The admin console: plain HTML, CSS and JavaScript modules from `console/`, compiled
//! into the binary (no CDN, works offline) and served at `/` and `/console/{file}`.
//!
//! The files hold no data: the page asks the user for a token and calls the same HTTP
//! API as any client, with the same authorization. They are served with a strict
//! Content-Security-Policy (scripts and styles from this origin only, no inline code,
//! no frames) and revalidated on every load through an `ETag`.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::ApiPath;

/// The policy every console response carries.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file: name under `/console/`, content type, bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ct:expr) => {
        Asset {
            name: $name,
            content_type: $ct,
            bytes: include_bytes!(concat!("../console/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("ui.js", JS),
    asset!("tree.js", JS),
    asset!("access.js", JS),
    asset!("page-roles.js", JS),
    asset!("page-users.js", JS),
    asset!("page-org.js", JS),
    asset!("page-queues.js", JS),
    asset!("page-assignments.js", JS),
    asset!("page-whocan.js", JS),
    asset!("page-explain.js", JS),
    asset!("page-viewas.js", JS),
    asset!("page-audit.js", JS),
    asset!("page-credentials.js", JS),
];

/// Each asset's strong ETag (a prefix of its SHA-256), in `ASSETS` order.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let h = hex::encode(Sha256::digest(a.bytes));
            format!("\"{}\"", h.get(..20).unwrap_or(&h))
        })
        .collect()
});

/// The names of the embedded files.
pub fn files() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.name)
}

fn serve(name: &str, request: &HeaderMap) -> Result<Response, ApiError> {
    let (i, asset) = ASSETS
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no console file `{name}`")))?;
    let etag = ETAGS.get(i).map_or("", String::as_str);
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
}

/// `/`: the console's page.
pub async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    serve("index.html", &headers)
}

/// `/console/{file}`: its scripts, style sheet and icon.
pub async fn asset(
    ApiPath(file): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve(&file, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_console_folder_is_embedded_and_vice_versa() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/console");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let mut embedded: Vec<String> = files().map(str::to_owned).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn scripts_import_only_embedded_modules() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(a.bytes).unwrap_or_default();
            // Each `import … from './x.js';` statement: its last quoted string.
            for stmt in text
                .split(';')
                .map(str::trim_start)
                .filter(|s| s.starts_with("import "))
            {
                let target = stmt
                    .rsplit('\'')
                    .nth(1)
                    .unwrap_or("")
                    .trim_start_matches("./");
                assert!(
                    files().any(|f| f == target),
                    "{} imports `{target}`, which is not embedded",
                    a.name
                );
            }
        }
    }
}
