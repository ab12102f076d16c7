//! `GET /v1/pull?<arbitrary query>` (and arbitrary `Authorization` headers): query parsing,
//! the page-size clamp and authentication.
#![no_main]

use axum::body::Body;
use axum::http::{Request, header};
use fieldconsult_fuzz::{TOKEN, check_reply, harness};
use fieldconsult_model::wire::PullResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let query = String::from_utf8_lossy(rest);
    let mut req = Request::get(format!("/v1/pull?{query}"));
    req = match selector % 4 {
        0 => req,
        1 => req.header(header::AUTHORIZATION, rest),
        _ => req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}")),
    };
    // Bytes that are no URI or header value never reach the server.
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let reply = harness().send(req);
    check_reply(&reply, &[200, 400, 401]);
    if reply.status == 200 {
        if let Err(e) = serde_json::from_slice::<PullResponse>(&reply.body) {
            panic!("a 200 pull answer is not a PullResponse: {e}");
        }
    }
});
