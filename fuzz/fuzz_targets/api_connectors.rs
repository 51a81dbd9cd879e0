//! Request decoding of the connector, run and mirror routes: any method,
//! path, query and body under `/connectors`, checked against the API's
//! error contract.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use okta_sync_fuzz::{build_request, check_request, path_of, RequestParts, Segment};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Segments after `/connectors`.
    segments: Vec<Segment>,
    parts: RequestParts,
}

fuzz_target!(|input: Input| {
    let mut segments = vec![Segment::Connectors];
    segments.extend(input.segments);
    let path = path_of(&segments);
    if let Some(request) = build_request(&input.parts, &path) {
        check_request(request);
    }
});
