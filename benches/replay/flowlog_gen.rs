//! A generator of NSG flow logs (version 2) for `scenarios/01-nsg-evaluation-order.ron`, shared
//! by the replay bench; not a bench of its own (`benches/replay.rs` includes it).
//!
//! The log is what Network Watcher writes to storage: `{"records": [...]}`, one record a minute
//! per NSG, the tuples grouped by rule and then by MAC address. Every tuple is one Azure would log
//! for scenario 01 at offset 0 (so `nsgsim replay … --at 0` agrees with all of them): HTTPS from
//! the Internet allowed by web-nic-nsg's `allow-https`, SSH from the admin range denied by
//! web-nic-nsg's `deny-ssh`, SSH from elsewhere denied by web-subnet-nsg's `DenyAllInBound`, SMTP
//! out denied by `deny-smtp-out`, web out to the Internet allowed by `AllowInternetOutBound`,
//! web to app on 8080-8089 allowed by `allow-web-to-app` and tools to app denied by
//! `deny-vnet-in`. Allowed connections log `B`, sometimes `C`, then `E` in the following
//! minutes, as version 2 does; denied ones log `B`. The generator is seeded, so one size gives
//! one file, byte for byte.

use std::io::{self, Write};

/// SplitMix64: a seeded generator small enough to keep the file reproducible without a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The scenario's start (2025-01-06T09:00:00Z) in Unix seconds.
const START: u64 = 1_736_154_000;

/// Which NSG logs a kind of tuple, with which rule, and what the tuple looks like.
#[derive(Clone, Copy)]
enum Kind {
    HttpsIn,
    AdminSshIn,
    OtherSshIn,
    SmtpOut,
    WebOut,
    WebToApp,
    ToolsToApp,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::HttpsIn,
        Kind::AdminSshIn,
        Kind::OtherSshIn,
        Kind::SmtpOut,
        Kind::WebOut,
        Kind::WebToApp,
        Kind::ToolsToApp,
    ];

    /// Relative frequencies (out of 100).
    fn weight(self) -> u64 {
        match self {
            Kind::HttpsIn => 45,
            Kind::AdminSshIn => 3,
            Kind::OtherSshIn => 15,
            Kind::SmtpOut => 2,
            Kind::WebOut => 15,
            Kind::WebToApp => 15,
            Kind::ToolsToApp => 5,
        }
    }

    /// The NSG (index into [`NSGS`]) and the rule as the log names it.
    fn logged_at(self) -> (usize, &'static str) {
        match self {
            Kind::HttpsIn => (0, "UserRule_allow-https"),
            Kind::AdminSshIn => (0, "UserRule_deny-ssh"),
            Kind::SmtpOut => (0, "UserRule_deny-smtp-out"),
            Kind::OtherSshIn => (1, "DefaultRule_DenyAllInBound"),
            Kind::WebOut => (1, "DefaultRule_AllowInternetOutBound"),
            Kind::WebToApp => (2, "UserRule_allow-web-to-app"),
            Kind::ToolsToApp => (2, "UserRule_deny-vnet-in"),
        }
    }

    fn allowed(self) -> bool {
        matches!(self, Kind::HttpsIn | Kind::WebOut | Kind::WebToApp)
    }

    /// `src,dst,sport,dport,T,I|O,A|D`.
    fn tuple(self, rng: &mut Rng) -> String {
        let internet = |rng: &mut Rng| {
            // Public addresses outside the admin range 203.0.113.0/24 and 198.51.100.7.
            format!("{}.{}.{}.{}", 20 + rng.below(60), rng.below(256), rng.below(256), 1 + rng.below(254))
        };
        let port = |rng: &mut Rng| 1024 + rng.below(64_000);
        match self {
            Kind::HttpsIn => format!("{},10.0.1.4,{},443,T,I,A", internet(rng), port(rng)),
            Kind::AdminSshIn => format!("203.0.113.{},10.0.1.4,{},22,T,I,D", 1 + rng.below(254), port(rng)),
            Kind::OtherSshIn => format!("{},10.0.1.4,{},22,T,I,D", internet(rng), port(rng)),
            Kind::SmtpOut => format!("10.0.1.4,{},{},25,T,O,D", internet(rng), port(rng)),
            Kind::WebOut => {
                let dport = if rng.below(2) == 0 { 80 } else { 443 };
                format!("10.0.1.4,{},{},{dport},T,O,A", internet(rng), port(rng))
            }
            Kind::WebToApp => format!("10.0.1.4,10.0.2.4,{},{},T,I,A", port(rng), 8080 + rng.below(10)),
            Kind::ToolsToApp => format!("10.0.3.4,10.0.2.4,{},{},T,I,D", port(rng), 8080 + rng.below(10)),
        }
    }
}

/// The NSGs that log, with the MAC address of the NIC their records come from.
const NSGS: [(&str, &str); 3] =
    [("WEB-NIC-NSG", "000D3A1B2C3D"), ("WEB-SUBNET-NSG", "000D3A1B2C3D"), ("APP-SUBNET-NSG", "000D3A4E5F60")];

/// One logged tuple waiting for its minute: (minute, nsg, rule, text).
type Pending = (u64, usize, &'static str, String);

/// Writes a version 2 NSG flow log of `tuples` tuples to `out`.
pub fn write_nsg_v2(out: &mut impl Write, tuples: usize, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed);
    let total_weight: u64 = Kind::ALL.iter().map(|k| k.weight()).sum();
    // Tuples per NSG record (a minute of one busy NSG).
    let per_record = 2_000usize;
    let mut written = 0usize;
    // Later states (C, E) of allowed connections, due in a later minute.
    let mut later: Vec<Pending> = Vec::new();
    out.write_all(b"{\"records\":[")?;
    let mut minute = 0u64;
    let mut first_record = true;
    while written < tuples {
        for (nsg, (name, mac)) in NSGS.iter().enumerate() {
            if written >= tuples {
                break;
            }
            let budget = per_record.min(tuples - written);
            // This minute's tuples of this NSG, by rule: the due later states first.
            let mut by_rule: Vec<(&'static str, Vec<String>)> = Vec::new();
            let push = |rule: &'static str, text: String, by_rule: &mut Vec<(&'static str, Vec<String>)>| {
                match by_rule.iter_mut().find(|(r, _)| *r == rule) {
                    Some((_, v)) => v.push(text),
                    None => by_rule.push((rule, vec![text])),
                }
            };
            let mut count = 0usize;
            let mut kept = Vec::with_capacity(later.len());
            for item in later.drain(..) {
                if item.0 <= minute && item.1 == nsg && count < budget {
                    push(item.2, item.3, &mut by_rule);
                    count += 1;
                } else {
                    kept.push(item);
                }
            }
            later = kept;
            while count < budget {
                let mut pick = rng.below(total_weight);
                let kind = Kind::ALL
                    .iter()
                    .copied()
                    .find(|k| {
                        if pick < k.weight() {
                            true
                        } else {
                            pick -= k.weight();
                            false
                        }
                    })
                    .unwrap_or(Kind::HttpsIn);
                let (kind_nsg, rule) = kind.logged_at();
                if kind_nsg != nsg {
                    continue;
                }
                let base = kind.tuple(&mut rng);
                let time = START + minute * 60 + rng.below(60);
                push(rule, format!("{time},{base},B,,,,"), &mut by_rule);
                count += 1;
                if kind.allowed() {
                    let end = minute + 1 + rng.below(2);
                    if rng.below(3) == 0 {
                        let t = START + (minute + 1) * 60 + rng.below(60);
                        later.push((minute + 1, nsg, rule, format!("{t},{base},C,12,1840,10,9210")));
                    }
                    let t = START + end * 60 + 59;
                    later.push((end, nsg, rule, format!("{t},{base},E,3,180,2,120")));
                }
            }
            written += count;
            if !first_record {
                out.write_all(b",\n")?;
            }
            first_record = false;
            let time = START + minute * 60 + 60;
            write!(
                out,
                "{{\"time\":\"{}\",\"systemId\":\"5f0c2a1e-7d4b-4c1a-9e3f-2b8d6a4c1e02\",\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/PROD-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/{name}\",\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{{\"Version\":2,\"flows\":[",
                iso(time)
            )?;
            for (g, (rule, texts)) in by_rule.iter().enumerate() {
                if g > 0 {
                    out.write_all(b",")?;
                }
                writeln!(out, "{{\"rule\":\"{rule}\",\"flows\":[{{\"mac\":\"{mac}\",\"flowTuples\":[")?;
                for (i, t) in texts.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",\n")?;
                    }
                    write!(out, "\"{t}\"")?;
                }
                out.write_all(b"]}]}")?;
            }
            out.write_all(b"]}}")?;
        }
        minute += 1;
    }
    out.write_all(b"]}\n")?;
    Ok(())
}

/// `2025-01-06T09:01:00.0000000Z` for Unix seconds on 2025-01-06 and the following days.
fn iso(unix: u64) -> String {
    let since = unix - START + 9 * 3600;
    let (day, rest) = (since / 86_400, since % 86_400);
    format!("2025-01-{:02}T{:02}:{:02}:{:02}.0000000Z", 6 + day, rest / 3600, rest % 3600 / 60, rest % 60)
}
