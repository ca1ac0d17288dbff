//! Device cookies (OWASP's "slow down online guessing with device cookies"): a browser that
//! signed in for an identifier gets a signed cookie saying so. Its later attempts on that
//! identifier are counted on a bucket of their own, so strangers guessing the identifier's
//! password from anywhere cannot lock its owner out.
//!
//! The cookie holds up to [`MAX_ENTRIES`] entries (a family computer, a person with two
//! accounts), each `tag.device.expires.mac`: the first 16 bytes of SHA-256 of the identifier's
//! bucket key (the store never sees a user name), a random device id, the Unix second the
//! entry ends, and an HMAC-SHA256 of the three under a key derived from the secret for this
//! purpose only. Entries are checked under every configured secret, so a rotation keeps them.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::cookies::{self, Lifetime, RequestCookies};

/// How long a browser stays known after its last successful sign-in: 90 days.
pub(crate) const LIFETIME: i64 = 90 * 24 * 60 * 60;
/// At most this many identifiers are remembered by one browser; the oldest goes first.
pub(crate) const MAX_ENTRIES: usize = 5;
/// A cookie longer than this is not read (five entries take about 400 bytes).
const MAX_COOKIE: usize = 1024;

const TAG_HEX: usize = 32;
const DEVICE_HEX: usize = 32;
const MAC_HEX: usize = 32;

/// Signs and reads device cookies.
pub(crate) struct DeviceCookies {
    /// One key per configured secret, newest first: the newest signs, every one verifies.
    keys: Vec<[u8; 32]>,
    name: String,
    secure: bool,
}

/// One remembered sign-in.
struct Entry<'a> {
    tag: &'a str,
    device: &'a str,
    expires: i64,
    raw: &'a str,
}

impl DeviceCookies {
    /// Device cookies signed under `secrets` (newest first), named `name`, `Secure` when
    /// `secure`.
    pub fn new<S: AsRef<str>>(secrets: &[S], name: String, secure: bool) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| {
                let mut key = [0u8; 32];
                Hkdf::<Sha256>::new(None, secret.as_ref().as_bytes())
                    .expand(b"auth-runtime device cookie", &mut key)
                    .expect("32 bytes is a valid HKDF-SHA256 length");
                key
            })
            .collect();
        DeviceCookies { keys, name, secure }
    }

    /// The device id this browser holds for `subject` (an identifier's bucket key), if its
    /// entry is genuine and has not expired.
    pub fn device_for(
        &self,
        cookies: &RequestCookies<'_>,
        subject: &str,
        now: i64,
    ) -> Option<String> {
        let value = cookies.get(&self.name)?;
        if value.len() > MAX_COOKIE {
            return None;
        }
        let tag = tag_of(subject);
        entries(&value)
            .filter(|entry| entry.tag == tag && entry.expires > now)
            .find(|entry| self.genuine(entry))
            .map(|entry| entry.device.to_owned())
    }

    /// The `Set-Cookie` line that records a successful sign-in for `subject`: this browser's
    /// entry for it renewed (its device id kept, so its count follows it), the other genuine
    /// entries kept, newest first, at most [`MAX_ENTRIES`].
    pub fn remember(&self, cookies: &RequestCookies<'_>, subject: &str, now: i64) -> String {
        let tag = tag_of(subject);
        let held = cookies
            .get(&self.name)
            .filter(|value| value.len() <= MAX_COOKIE)
            .map(|value| value.into_owned())
            .unwrap_or_default();
        let genuine: Vec<Entry<'_>> = entries(&held)
            .filter(|entry| entry.expires > now && self.genuine(entry))
            .collect();
        let device = genuine
            .iter()
            .find(|entry| entry.tag == tag)
            .map_or_else(new_device, |entry| entry.device.to_owned());
        let expires = now.saturating_add(LIFETIME);
        let mut value = self.sign(&tag, &device, expires);
        for entry in genuine
            .iter()
            .filter(|entry| entry.tag != tag)
            .take(MAX_ENTRIES - 1)
        {
            value.push('~');
            value.push_str(entry.raw);
        }
        cookies::set_cookie(&self.name, &value, Lifetime::Until(expires), self.secure)
    }

    fn sign(&self, tag: &str, device: &str, expires: i64) -> String {
        let mac = mac_hex(&self.keys[0], tag, device, expires);
        format!("{tag}.{device}.{expires}.{mac}")
    }

    fn genuine(&self, entry: &Entry<'_>) -> bool {
        let Some((_, mac)) = entry.raw.rsplit_once('.') else {
            return false;
        };
        self.keys.iter().any(|key| {
            let expected = mac_hex(key, entry.tag, entry.device, entry.expires);
            bool::from(expected.as_bytes().ct_eq(mac.as_bytes()))
        })
    }
}

/// The well-formed entries of a cookie value; anything else is skipped.
fn entries(value: &str) -> impl Iterator<Item = Entry<'_>> {
    value.split('~').take(MAX_ENTRIES).filter_map(|raw| {
        let mut parts = raw.split('.');
        let (tag, device, expires, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |text: &str, len: usize| {
            text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if parts.next().is_some()
            || !hex(tag, TAG_HEX)
            || !hex(device, DEVICE_HEX)
            || !hex(mac, MAC_HEX)
            || expires.is_empty()
            || expires.len() > 12
            || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Entry {
            tag,
            device,
            expires: expires.parse().ok()?,
            raw,
        })
    })
}

fn tag_of(subject: &str) -> String {
    crate::csrf::hex(&Sha256::digest(subject.as_bytes())[..TAG_HEX / 2])
}

fn new_device() -> String {
    let mut bytes = [0u8; DEVICE_HEX / 2];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    crate::csrf::hex(&bytes)
}

fn mac_hex(key: &[u8; 32], tag: &str, device: &str, expires: i64) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(tag.as_bytes());
    mac.update(b".");
    mac.update(device.as_bytes());
    mac.update(b".");
    mac.update(expires.to_string().as_bytes());
    crate::csrf::hex(&mac.finalize().into_bytes()[..MAC_HEX / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn signer(secrets: &[&str]) -> DeviceCookies {
        DeviceCookies::new(secrets, "next-auth.device".to_owned(), false)
    }

    /// The cookie value a `Set-Cookie` line carries, as the browser sends it back.
    fn sent(line: &str) -> String {
        let pair = line.split(';').next().unwrap();
        pair.to_owned()
    }

    fn read(devices: &DeviceCookies, header: &str, subject: &str, now: i64) -> Option<String> {
        let cookies = RequestCookies::parse([header]).unwrap();
        devices.device_for(&cookies, subject, now)
    }

    #[test]
    fn a_remembered_sign_in_is_read_back_for_its_identifier_only() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let line = devices.remember(
            &RequestCookies::default(),
            "credentials:password:alice",
            NOW,
        );
        assert!(
            line.contains("HttpOnly") && line.contains("SameSite=Lax"),
            "{line}"
        );
        let header = sent(&line);
        let device = read(&devices, &header, "credentials:password:alice", NOW).unwrap();
        assert_eq!(device.len(), DEVICE_HEX);
        assert_eq!(
            read(&devices, &header, "credentials:password:bob", NOW),
            None
        );
        // Past its lifetime it is nothing.
        assert_eq!(
            read(
                &devices,
                &header,
                "credentials:password:alice",
                NOW + LIFETIME
            ),
            None
        );
        // A renewal keeps the device id, and another identifier's entry goes beside it.
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        let renewed = sent(&devices.remember(&cookies, "credentials:password:alice", NOW + 10));
        assert_eq!(
            read(&devices, &renewed, "credentials:password:alice", NOW).as_deref(),
            Some(device.as_str())
        );
        let cookies = RequestCookies::parse([renewed.as_str()]).unwrap();
        let both = sent(&devices.remember(&cookies, "credentials:password:bob", NOW + 20));
        assert!(read(&devices, &both, "credentials:password:alice", NOW).is_some());
        assert!(read(&devices, &both, "credentials:password:bob", NOW).is_some());
    }

    #[test]
    fn forged_altered_or_foreign_entries_are_nothing() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let header = sent(&devices.remember(&RequestCookies::default(), "s", NOW));
        let value = header.split_once('=').unwrap().1.to_owned();
        let (tag, rest) = value.split_once('.').unwrap();
        let (device, rest) = rest.split_once('.').unwrap();
        let (expires, mac) = rest.split_once('.').unwrap();
        let altered = [
            format!("{tag}.{}.{expires}.{mac}", "0".repeat(DEVICE_HEX)),
            format!("{tag}.{device}.{}.{mac}", NOW + 10 * LIFETIME),
            format!("{tag}.{device}.{expires}.{}", "f".repeat(MAC_HEX)),
            format!("{tag}.{device}.{expires}.{}", mac.to_uppercase()),
            format!("{tag}.{device}.{expires}"),
            format!("{tag}.{device}.{expires}.{mac}.x"),
            format!("{tag}.{device}.-1.{mac}"),
            format!("{tag}.{device}.{expires}.{mac}{}", "~".repeat(5000)),
            "\0".to_owned(),
            String::new(),
        ];
        for forged in altered {
            let header = format!("next-auth.device={forged}");
            assert_eq!(read(&devices, &header, "s", NOW), None, "{forged:?}");
        }
        // Another server's secret signed it: not this server's device.
        let other = signer(&["another-secret-0123456789abcdef"]);
        assert_eq!(read(&other, &header, "s", NOW), None);
    }

    #[test]
    fn a_rotated_secret_still_reads_entries_signed_before() {
        let old = signer(&["old-device-secret-0123456789abcdef"]);
        let header = sent(&old.remember(&RequestCookies::default(), "s", NOW));
        let rotated = signer(&[
            "new-device-secret-0123456789abcdef",
            "old-device-secret-0123456789abcdef",
        ]);
        let device = read(&rotated, &header, "s", NOW).unwrap();
        // Renewed under the newest secret, with the same device id.
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        let renewed = sent(&rotated.remember(&cookies, "s", NOW));
        let newest = signer(&["new-device-secret-0123456789abcdef"]);
        assert_eq!(read(&newest, &renewed, "s", NOW), Some(device));
    }

    #[test]
    fn a_browser_keeps_the_newest_entries() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let mut header = String::new();
        for i in 0..(MAX_ENTRIES + 2) {
            let cookies = RequestCookies::parse([header.as_str()]).unwrap();
            header = sent(&devices.remember(&cookies, &format!("user-{i}"), NOW));
        }
        let held = (0..MAX_ENTRIES + 2)
            .filter(|i| read(&devices, &header, &format!("user-{i}"), NOW).is_some())
            .count();
        assert_eq!(held, MAX_ENTRIES);
        assert!(read(&devices, &header, "user-0", NOW).is_none());
        assert!(read(&devices, &header, &format!("user-{}", MAX_ENTRIES + 1), NOW).is_some());
    }
}
