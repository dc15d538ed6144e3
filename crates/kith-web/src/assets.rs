//! Static assets, embedded in the binary and served with long cache lifetimes. Their URLs carry
//! a version, so a new release never meets a stale cached copy.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const CSS_PATH: &str = "/assets/kith-4.css";
pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";

const CSS: &str = include_str!("../assets/kith.css");
const HTMX: &str = include_str!("../assets/htmx-2.0.11.min.js");
const ICON: &str = include_str!("../assets/kith-icon.svg");
const SORTABLE: &str = include_str!("../assets/sortable-1.15.6.min.js");
const BOARD: &str = include_str!("../assets/board.js");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "kith-4.css" => (CSS, "text/css; charset=utf-8"),
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "kith-icon.svg" => (ICON, "image/svg+xml"),
        "sortable-1.15.6.min.js" => (SORTABLE, "text/javascript; charset=utf-8"),
        "board-2.js" => (BOARD, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}
