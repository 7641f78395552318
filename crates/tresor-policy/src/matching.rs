//! Low-level matchers: wildcard globs, ARNs, ISO 8601 / epoch dates and CIDR blocks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Glob match with `*` (any run of characters, possibly empty) and `?` (exactly one
/// character) over the whole of `text`. Iterative, linear-ish (no exponential
/// backtracking).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    if pattern.is_ascii() && text.is_ascii() {
        return glob_in(pattern.as_bytes(), text.as_bytes(), &b'*', &b'?', u8::eq);
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_in(&p, &t, &'*', &'?', char::eq)
}

/// [`glob`] over units (bytes of ASCII text, or chars), `same` comparing a pattern
/// unit with a text unit.
fn glob_in<T: PartialEq>(p: &[T], t: &[T], any: &T, one: &T, same: fn(&T, &T) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` seen in the pattern, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match (p.get(pi), t.get(ti)) {
            (Some(pc), _) if pc == any => {
                star = Some((pi, ti));
                pi += 1;
            }
            (Some(pc), Some(tc)) if pc == one || same(pc, tc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| c == any))
}

/// Case-insensitive [`glob`].
pub(crate) fn glob_ignore_case(pattern: &str, text: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern.is_ascii() && text.is_ascii() {
        if !pattern.contains(['*', '?']) {
            return pattern.eq_ignore_ascii_case(text);
        }
        // ASCII letters compared case-folded in place: no lower-cased copies.
        return glob_in(pattern.as_bytes(), text.as_bytes(), &b'*', &b'?', |a, b| {
            a.eq_ignore_ascii_case(b)
        });
    }
    glob(&pattern.to_lowercase(), &text.to_lowercase())
}

/// `ArnLike` / `ArnEquals`: each of the six colon-separated ARN components is matched
/// separately (the last one may itself contain colons), case-sensitively, with wildcards.
/// A policy value that is not a six-component ARN (e.g. `*`) is matched as a whole.
pub(crate) fn arn_like(pattern: &str, arn: &str) -> bool {
    let pp: Vec<&str> = pattern.splitn(6, ':').collect();
    if pp.len() != 6 {
        return glob(pattern, arn);
    }
    let ap: Vec<&str> = arn.splitn(6, ':').collect();
    if ap.len() != 6 {
        return false;
    }
    pp.iter().zip(ap.iter()).all(|(p, a)| glob(p, a))
}

/// The six components of an ARN, when `s` is one.
pub(crate) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub(crate) fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let mut it = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    if partition.is_empty() || service.is_empty() {
        return None;
    }
    Some(Arn {
        service,
        region,
        account,
        resource,
    })
}

/// True for a 12-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an account-root ARN (`arn:PARTITION:iam::ACCOUNT:root`).
pub(crate) fn root_account(s: &str) -> Option<&str> {
    if !s.ends_with(":root") {
        return None;
    }
    let arn = parse_arn(s)?;
    (arn.service == "iam"
        && arn.region.is_empty()
        && arn.resource == "root"
        && is_account_id(arn.account))
    .then_some(arn.account)
}

/// For an STS assumed-role session ARN (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`),
/// the account and role name.
pub(crate) fn assumed_role(s: &str) -> Option<(&str, &str)> {
    let arn = parse_arn(s)?;
    if arn.service != "sts" {
        return None;
    }
    let rest = arn.resource.strip_prefix("assumed-role/")?;
    let role = rest.split('/').next().filter(|r| !r.is_empty())?;
    Some((arn.account, role))
}

/// For an IAM role ARN (`arn:aws:iam::ACCT:role/PATH/NAME`), the account and role name.
pub(crate) fn role_name(s: &str) -> Option<(&str, &str)> {
    let arn = parse_arn(s)?;
    if arn.service != "iam" {
        return None;
    }
    let rest = arn.resource.strip_prefix("role/")?;
    let name = rest.rsplit('/').next().filter(|r| !r.is_empty())?;
    Some((arn.account, name))
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Fixed-width run of ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, s.get(n..)?))
}

/// Parses an IAM date: epoch seconds (`1700000000`) or ISO 8601 (`2026-11-28`,
/// `2026-11-28T12:00Z`, `2026-11-28T12:00:00Z`, `2026-11-28T12:00:00.123+02:00`, `...T120000Z`
/// is not accepted). A time without a zone designator is taken as UTC. Returns
/// nanoseconds since the Unix epoch.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty() {
        let unsigned = s.strip_prefix('-').unwrap_or(s);
        if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
            let secs: i64 = s.parse().ok()?;
            return Some(i128::from(secs) * 1_000_000_000);
        }
    }
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let (mut secs, mut nanos, mut offset) = (0i64, 0i64, 0i64);
    if !rest.is_empty() {
        let rest = rest.strip_prefix(['T', 't'])?;
        let (hour, rest) = digits(rest, 2)?;
        let rest = rest.strip_prefix(':')?;
        let (minute, mut rest) = digits(rest, 2)?;
        let mut second = 0;
        if let Some(r) = rest.strip_prefix(':') {
            let (sv, r) = digits(r, 2)?;
            second = sv;
            rest = r;
            if let Some(r) = rest.strip_prefix(['.', ',']) {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                let frac = r.get(..n)?;
                rest = r.get(n..)?;
                // Keep nanosecond precision; ignore further digits.
                let mut v: i64 = 0;
                for (i, c) in frac.bytes().enumerate() {
                    if i >= 9 {
                        break;
                    }
                    v = v * 10 + i64::from(c - b'0');
                }
                for _ in n.min(9)..9 {
                    v *= 10;
                }
                nanos = v;
            }
        }
        // 24:00:00 is not accepted; 60 seconds (leap second) is clamped below.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        secs = hour * 3600 + minute * 60 + second;
        match rest {
            "Z" | "z" | "" => {}
            _ => {
                let (sign, r) = if let Some(r) = rest.strip_prefix('+') {
                    (1, r)
                } else if let Some(r) = rest.strip_prefix('-') {
                    (-1, r)
                } else {
                    return None;
                };
                let (oh, r) = digits(r, 2)?;
                let r = r.strip_prefix(':').unwrap_or(r);
                let (om, r) = digits(r, 2)?;
                if !r.is_empty() || oh > 23 || om > 59 {
                    return None;
                }
                offset = sign * (oh * 3600 + om * 60);
            }
        }
    }
    let total = days * 86_400 + secs - offset;
    Some(i128::from(total) * 1_000_000_000 + i128::from(nanos))
}

// ---------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                    return None;
                }
                (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?))
            }
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Cidr { addr, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => v4_in(net, self.prefix, ip),
            (IpAddr::V4(net), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|ip| v4_in(net, self.prefix, ip)),
            (IpAddr::V6(net), IpAddr::V6(ip)) => v6_in(net, self.prefix, ip),
            (IpAddr::V6(net), IpAddr::V4(ip)) => v6_in(net, self.prefix, ip.to_ipv6_mapped()),
        }
    }
}

fn v4_in(net: Ipv4Addr, prefix: u8, ip: Ipv4Addr) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(net) & mask == u32::from(ip) & mask
}

fn v6_in(net: Ipv6Addr, prefix: u8, ip: Ipv6Addr) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(net) & mask == u128::from(ip) & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_basics() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("kms:*", "kms:Encrypt", true),
            ("kms:*", "kmsx:Encrypt", false),
            ("kms:Re*", "kms:ReEncryptFrom", true),
            ("kms:Re*", "kms:Decrypt", false),
            ("kms:?ecrypt", "kms:Decrypt", true),
            ("kms:?ecrypt", "kms:Encrypt", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("abc?", "abc", false),
            ("", "", true),
            ("", "a", false),
            ("**", "x", true),
            // Non-ASCII text goes through the char path; `?` is one character.
            ("d?j?", "déjà", true),
            ("déj*", "déjà vu", true),
            ("d?j", "déjà", false),
            ("é", "é", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob(p, t), want, "glob({p:?}, {t:?})");
        }
        assert!(glob_ignore_case("KMS:encrypt", "kms:Encrypt"));
        assert!(glob_ignore_case("KMS:*", "kms:Encrypt"));
        assert!(glob_ignore_case("kms:RE*FROM", "kms:ReEncryptFrom"));
        assert!(glob_ignore_case("kms:?NCRYPT", "kms:Encrypt"));
        assert!(!glob_ignore_case("kms:De*", "kms:Encrypt"));
        assert!(!glob_ignore_case("kms:*[", "kms:x{"), "only letters fold");
        assert!(!glob_ignore_case("kms:*t", "kms:Encrypts"));
        assert!(!glob_ignore_case("KMS:encrypt", "kms:Encrypt2"));
        assert!(glob_ignore_case("ÉTÉ", "été"));
        assert!(glob_ignore_case("*", "x"));
        assert!(!glob("KMS:encrypt", "kms:Encrypt"));
    }

    #[test]
    fn arn_like_is_per_component() {
        assert!(arn_like(
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::111122223333:user/alice"
        ));
        assert!(!arn_like(
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::444455556666:user/alice"
        ));
        // `*` in one component does not swallow the following components.
        assert!(!arn_like(
            "arn:aws:iam::*:user/alice",
            "arn:aws:iam::111122223333:extra:user/alice"
        ));
        assert!(glob(
            "arn:aws:iam::*:user/alice",
            "arn:aws:iam::111122223333:extra:user/alice"
        ));
        assert!(arn_like(
            "arn:aws:*::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/alice"
        ));
        assert!(arn_like("*", "arn:aws:iam::111122223333:user/alice"));
        assert!(!arn_like(
            "arn:aws:iam::111122223333:user/alice",
            "not-an-arn"
        ));
    }

    #[test]
    fn dates() {
        let base = parse_date("2026-11-28T12:00:00Z");
        assert_eq!(base, Some(1_795_867_200 * 1_000_000_000));
        assert_eq!(parse_date("1795867200"), base);
        assert_eq!(parse_date("2026-11-28T14:00:00+02:00"), base);
        assert_eq!(parse_date("2026-11-28T07:00:00-0500"), base);
        assert_eq!(parse_date("2026-11-28T12:00Z"), base);
        assert_eq!(parse_date("2026-11-28T12:00:00"), base);
        assert_eq!(
            parse_date("2026-11-28T12:00:00.5Z"),
            base.map(|b| b + 500_000_000)
        );
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1969-12-31T23:59:59Z"), Some(-1_000_000_000));
        assert_eq!(
            parse_date("2024-02-29"),
            Some(1_709_164_800 * 1_000_000_000)
        );
        for bad in [
            "",
            "2025-02-29",
            "2026-13-01",
            "2026-11-28T25:00:00Z",
            "2026-11-28 12:00:00Z",
            "yesterday",
            "2026-11-28T12:00:00.Z",
            "2026-11-28T12:00:00+2",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let c = |s: &str| Cidr::parse(s);
        let cases = [
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.1.2.3", false),
            ("192.0.2.0/24", "192.0.2.255", true),
            ("192.0.2.0/24", "192.0.3.0", false),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("127.0.0.1/32", "::ffff:127.0.0.1", true),
            ("2001:db8::/32", "2001:db8:1::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("::/0", "::1", true),
            ("::1/128", "::1", true),
            ("::1", "::2", false),
        ];
        for (cidr, addr, want) in cases {
            let (Some(cidr_v), Some(addr_v)) = (c(cidr), ip(addr)) else {
                unreachable!("bad fixture {cidr} {addr}");
            };
            assert_eq!(cidr_v.contains(addr_v), want, "{cidr} contains {addr}");
        }
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "x",
            "10.0.0.0/-1",
        ] {
            assert_eq!(c(bad), None, "{bad}");
        }
    }

    #[test]
    fn arn_helpers() {
        assert_eq!(
            root_account("arn:aws:iam::111122223333:root"),
            Some("111122223333")
        );
        assert_eq!(root_account("arn:aws:iam::111122223333:user/root"), None);
        assert_eq!(root_account("arn:aws:iam::1111:root"), None);
        assert_eq!(
            assumed_role("arn:aws:sts::111122223333:assumed-role/Admin/sess"),
            Some(("111122223333", "Admin"))
        );
        assert_eq!(
            role_name("arn:aws:iam::111122223333:role/path/Admin"),
            Some(("111122223333", "Admin"))
        );
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333a"));
    }
}
