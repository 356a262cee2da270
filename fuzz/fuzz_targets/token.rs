//! Survey link tokens: `edge_worker::fuzzing::token` (verification never panics; forged never passes).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edge_worker::fuzzing::token(data));
