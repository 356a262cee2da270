//! Stored rollup bytes: `kpi_core::codec::decode` and the re-encoding round trip (`edge_worker::fuzzing::rollup`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| edge_worker::fuzzing::rollup(data));
