//! Time as the protocol writes it: Unix seconds, RFC 1123 cookie dates, ISO 8601 session expiry.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch: what rate buckets and guests' activity count in.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn datetime(at: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `Sun, 27 Dec 2026 09:24:36 GMT`, as cookie `Expires` attributes are written.
pub fn http_date(at: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = datetime(at);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            DAYS[t.weekday().number_days_from_monday() as usize],
            t.day(),
            MONTHS[t.month() as usize - 1],
            year,
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    // Every sign-in and renewal writes one: digits by hand, no formatter machinery.
    let mut out = String::with_capacity(29);
    out.push_str(DAYS[t.weekday().number_days_from_monday() as usize]);
    out.push_str(", ");
    push_digits(&mut out, u32::from(t.day()));
    out.push(' ');
    out.push_str(MONTHS[t.month() as usize - 1]);
    out.push(' ');
    let year = year as u32;
    push_digits(&mut out, year / 100);
    push_digits(&mut out, year % 100);
    out.push(' ');
    push_digits(&mut out, u32::from(t.hour()));
    out.push(':');
    push_digits(&mut out, u32::from(t.minute()));
    out.push(':');
    push_digits(&mut out, u32::from(t.second()));
    out.push_str(" GMT");
    out
}

/// `2026-12-27T09:24:36.000Z`, as the session's `expires` is written.
pub fn iso_date(at: i64) -> String {
    let t = datetime(at);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    // Every session read writes one: digits by hand, no formatter machinery.
    let mut out = String::with_capacity(24);
    let year = year as u32;
    push_digits(&mut out, year / 100);
    push_digits(&mut out, year % 100);
    out.push('-');
    push_digits(&mut out, u32::from(t.month() as u8));
    out.push('-');
    push_digits(&mut out, u32::from(t.day()));
    out.push('T');
    push_digits(&mut out, u32::from(t.hour()));
    out.push(':');
    push_digits(&mut out, u32::from(t.minute()));
    out.push(':');
    push_digits(&mut out, u32::from(t.second()));
    out.push_str(".000Z");
    out
}

/// Two decimal digits of `n` (below 100).
fn push_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_like_javascript() {
        assert_eq!(http_date(1_798_363_476), "Sun, 27 Dec 2026 09:24:36 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_827_696), "Tue, 29 Feb 2000 12:34:56 GMT");
        assert_eq!(iso_date(1_798_363_476), "2026-12-27T09:24:36.000Z");
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(951_827_696), "2000-02-29T12:34:56.000Z");
        assert_eq!(iso_date(253_402_300_799), "9999-12-31T23:59:59.000Z");
    }
}
