#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ballot::sim::fuzz::frame(data));
