//! `POST /v1/events` JSON bodies: `edge_worker::fuzzing::events` with kpi-core's event validation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edge_worker::fuzzing::events(data, false));
