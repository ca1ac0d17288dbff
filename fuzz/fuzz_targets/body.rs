//! Request bodies: forms and JSON never panic, and a form keeps the first value of each key.
#![no_main]

use auth_runtime::RequestBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = RequestBody::from_form(data) {
        assert!(body.fields().len() <= 256);
        let _ = body.wants_json();
        let _ = body.get("csrfToken");
    }
    if let Ok(body) = RequestBody::from_json(data) {
        assert!(body.fields().len() <= 256);
        let _ = body.value("data");
    }
});
