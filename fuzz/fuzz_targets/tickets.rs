//! `POST /v1/tickets` bodies, upserted twice over an in-memory store: `edge_worker::fuzzing::tickets`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edge_worker::fuzzing::tickets(data));
