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
/// A known browser's entry is rewritten at most once a day: a sign-in within a day of the last
/// rewrite sets no cookie (the lifetime slides, as a session's does).
const RENEW_AFTER: i64 = 24 * 60 * 60;
/// At most this many identifiers are remembered by one browser; the oldest goes first.
pub(crate) const MAX_ENTRIES: usize = 5;
/// A cookie longer than this is not read (five entries take about 400 bytes).
const MAX_COOKIE: usize = 1024;

const TAG_HEX: usize = 32;
const DEVICE_HEX: usize = 32;
const MAC_HEX: usize = 32;

/// Signs and reads device cookies.
pub(crate) struct DeviceCookies {
    /// One keyed MAC per configured secret, newest first: the newest signs, every one
    /// verifies. Keyed once and cloned per use, so the key's blocks are not hashed again.
    keys: Vec<Hmac<Sha256>>,
    name: String,
    secure: bool,
}

/// A genuine entry this browser holds for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    /// Its device id: the bucket its attempts are counted on.
    pub device: String,
    /// When the entry ends, Unix seconds.
    expires: i64,
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
                <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length")
            })
            .collect();
        DeviceCookies { keys, name, secure }
    }

    /// This browser's entry for `subject` (an identifier's bucket key), if it holds a genuine
    /// one that has not expired.
    pub fn device_for(
        &self,
        cookies: &RequestCookies<'_>,
        subject: &str,
        now: i64,
    ) -> Option<Known> {
        let value = cookies.get(&self.name)?;
        if value.len() > MAX_COOKIE {
            return None;
        }
        let tag = tag_of(subject);
        self.find(&value, &tag, now).map(|entry| Known {
            device: entry.device.to_owned(),
            expires: entry.expires,
        })
    }

    /// The `Set-Cookie` line that records a successful sign-in for `subject`, or `None` when
    /// `known` (this browser's entry for it, from [`DeviceCookies::device_for`]) was written
    /// less than a day ago. The entry is renewed with its device id (its count follows it), the
    /// other genuine entries kept, newest first, at most [`MAX_ENTRIES`].
    pub fn remember(
        &self,
        cookies: &RequestCookies<'_>,
        subject: &str,
        now: i64,
        known: Option<&Known>,
    ) -> Option<String> {
        if known.is_some_and(|known| known.expires - now > LIFETIME - RENEW_AFTER) {
            return None;
        }
        let tag = tag_of(subject);
        let held = cookies
            .get(&self.name)
            .filter(|value| value.len() <= MAX_COOKIE)
            .map(|value| value.into_owned())
            .unwrap_or_default();
        let device = match known {
            Some(known) => known.device.clone(),
            None => self
                .find(&held, &tag, now)
                .map_or_else(new_device, |entry| entry.device.to_owned()),
        };
        let expires = now.saturating_add(LIFETIME);
        let mut value = self.sign(&tag, &device, expires);
        for entry in entries(&held)
            .filter(|entry| entry.tag != tag && entry.expires > now && self.genuine(entry))
            .take(MAX_ENTRIES - 1)
        {
            value.push('~');
            value.push_str(entry.raw);
        }
        Some(cookies::set_cookie(
            &self.name,
            &value,
            Lifetime::Until(expires),
            self.secure,
        ))
    }

    /// The genuine, unexpired entry of `value` for `tag`.
    fn find<'v>(&self, value: &'v str, tag: &str, now: i64) -> Option<Entry<'v>> {
        entries(value)
            .filter(|entry| entry.tag == tag && entry.expires > now)
            .find(|entry| self.genuine(entry))
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

fn mac_hex(key: &Hmac<Sha256>, tag: &str, device: &str, expires: i64) -> String {
    let mut mac = key.clone();
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

    /// The cookie a `Set-Cookie` line carries, as the browser sends it back.
    fn sent(line: &str) -> String {
        line.split(';').next().unwrap().to_owned()
    }

    fn read(devices: &DeviceCookies, header: &str, subject: &str, now: i64) -> Option<String> {
        let cookies = RequestCookies::parse([header]).unwrap();
        devices
            .device_for(&cookies, subject, now)
            .map(|known| known.device)
    }

    /// What the browser sends after a sign-in for `subject` that found no entry of its own.
    fn remembered(devices: &DeviceCookies, header: &str, subject: &str, now: i64) -> String {
        let cookies = RequestCookies::parse([header]).unwrap();
        sent(&devices.remember(&cookies, subject, now, None).unwrap())
    }

    #[test]
    fn a_remembered_sign_in_is_read_back_for_its_identifier_only() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let none = RequestCookies::default();
        let line = devices
            .remember(&none, "credentials:password:alice", NOW, None)
            .unwrap();
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
        let end = NOW + LIFETIME;
        assert_eq!(
            read(&devices, &header, "credentials:password:alice", end),
            None
        );

        // Within a day of its writing, a known entry is not written again...
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        let soon = NOW + 10;
        let known = devices.device_for(&cookies, "credentials:password:alice", soon);
        let again = devices.remember(&cookies, "credentials:password:alice", soon, known.as_ref());
        assert_eq!(again, None);
        // ...later it is renewed with its device id, and another identifier's goes beside it.
        let later = NOW + RENEW_AFTER + 1;
        let known = devices.device_for(&cookies, "credentials:password:alice", later);
        let renewed = devices.remember(
            &cookies,
            "credentials:password:alice",
            later,
            known.as_ref(),
        );
        let renewed = sent(&renewed.unwrap());
        let kept = read(
            &devices,
            &renewed,
            "credentials:password:alice",
            NOW + LIFETIME,
        );
        assert_eq!(
            kept.as_deref(),
            Some(device.as_str()),
            "renewed: it outlives the first"
        );
        let both = remembered(&devices, &renewed, "credentials:password:bob", later);
        assert!(read(&devices, &both, "credentials:password:alice", later).is_some());
        assert!(read(&devices, &both, "credentials:password:bob", later).is_some());
    }

    #[test]
    fn forged_altered_or_foreign_entries_are_nothing() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let header = remembered(&devices, "", "s", NOW);
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
        let header = remembered(&old, "", "s", NOW);
        let rotated = signer(&[
            "new-device-secret-0123456789abcdef",
            "old-device-secret-0123456789abcdef",
        ]);
        let device = read(&rotated, &header, "s", NOW).unwrap();
        // Renewed under the newest secret, with the same device id.
        let renewed = remembered(&rotated, &header, "s", NOW);
        let newest = signer(&["new-device-secret-0123456789abcdef"]);
        assert_eq!(read(&newest, &renewed, "s", NOW), Some(device));
    }

    #[test]
    fn a_browser_keeps_the_newest_entries() {
        let devices = signer(&["device-secret-0123456789abcdef"]);
        let mut header = String::new();
        for i in 0..(MAX_ENTRIES + 2) {
            header = remembered(&devices, &header, &format!("user-{i}"), NOW);
        }
        let held = (0..MAX_ENTRIES + 2)
            .filter(|i| read(&devices, &header, &format!("user-{i}"), NOW).is_some())
            .count();
        assert_eq!(held, MAX_ENTRIES);
        assert!(read(&devices, &header, "user-0", NOW).is_none());
        assert!(read(&devices, &header, &format!("user-{}", MAX_ENTRIES + 1), NOW).is_some());
    }
}
