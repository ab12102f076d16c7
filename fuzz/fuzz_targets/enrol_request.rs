//! `POST /v1/enrol` with arbitrary bytes: decoding, label rules, and the problem documents.
#![no_main]

use fieldconsult_fuzz::{check_reply, post};
use fieldconsult_model::wire::EnrolResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reply = post("/v1/enrol", data, false);
    check_reply(&reply, &[200, 400, 403, 413, 415]);
    if reply.status == 200 {
        let enrolled: EnrolResponse = match serde_json::from_slice(&reply.body) {
            Ok(r) => r,
            Err(e) => panic!("a 200 enrol answer is not an EnrolResponse: {e}"),
        };
        assert_eq!(enrolled.token.len(), 64);
    }
});
