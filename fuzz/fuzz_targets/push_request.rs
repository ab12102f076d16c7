//! `POST /v1/push` with arbitrary bytes, plain or compressed: the server's decompression, body
//! limit and JSON decoding, then the model's validation of every decoded record.
#![no_main]

use fieldconsult_fuzz::{BODY_LIMIT, check_reply, decodes_as_push, encoded_body, post};
use fieldconsult_model::wire::{MAX_BATCH_RECORDS, PushResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reply = post("/v1/push", data, true);
    check_reply(&reply, &[200, 400, 413, 415]);
    let json = data.get(1..).unwrap_or_default();
    let (encoding, sent) = encoded_body(data);
    let honest = matches!(data.first().map(|b| b % 8), Some(0..=4));
    let decoded = decodes_as_push(json);
    if reply.status == 200 {
        let response: PushResponse = match serde_json::from_slice(&reply.body) {
            Ok(r) => r,
            Err(e) => panic!("a 200 push answer is not a PushResponse: {e}"),
        };
        match &decoded {
            Some(req) => assert_eq!(response.acks.len(), req.changes.len()),
            None => panic!("the server accepted a body that is not a push request ({encoding:?})"),
        }
    } else if let Some(req) = &decoded
        && honest
        && json.len() <= BODY_LIMIT
        && sent.len() <= BODY_LIMIT
        && req.changes.len() <= MAX_BATCH_RECORDS
    {
        panic!(
            "a valid push request within the limits was refused with {} ({encoding:?})",
            reply.status
        );
    }
});
