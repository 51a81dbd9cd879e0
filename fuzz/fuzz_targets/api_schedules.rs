//! Request decoding of the schedule routes: `/connectors/{id}/schedule` and
//! `/schedules/preview` with any method, query and body, plus any other
//! path, checked against the API's error contract.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use okta_sync_fuzz::{build_request, check_request, path_of, RequestParts, Segment};

#[derive(Arbitrary, Debug)]
enum Route {
    Preview,
    ConnectorSchedule([u8; 16]),
    Any(Vec<Segment>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    route: Route,
    parts: RequestParts,
}

fuzz_target!(|input: Input| {
    let segments = match input.route {
        Route::Preview => vec![Segment::Schedules, Segment::Preview],
        Route::ConnectorSchedule(id) => vec![
            Segment::Connectors,
            Segment::ConnectorId(id),
            Segment::Schedule,
        ],
        Route::Any(segments) => segments,
    };
    let path = path_of(&segments);
    if let Some(request) = build_request(&input.parts, &path) {
        check_request(request);
    }
});
