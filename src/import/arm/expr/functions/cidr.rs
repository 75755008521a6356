//! CIDR functions: `parseCidr`, `cidrSubnet`, `cidrHost`, as Microsoft's reference shows them
//! (for IPv4 the network and broadcast addresses are not usable; for IPv6 the first usable is
//! the network; `cidrHost(n, 0)` is the address after the network's).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Value, json};

use super::{Args, Res};
use crate::import::arm::expr::{ExprError, FunctionError, TextKind, V};
use crate::import::json::shorten;

pub(super) fn call(name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "parsecidr" => {
            a.arity(1).and_then(|()| a.text(0)).and_then(|s| network(&s)).map(|n| V::J(parse_cidr(&n)))
        }
        "cidrsubnet" => (|| {
            a.arity(3)?;
            let net = network(&a.text(0)?)?;
            let (new, index) = (a.int(1)?, a.int(2)?);
            let new = u8::try_from(new)
                .ok()
                .filter(|n| *n >= net.prefix_len() && *n <= net.max_prefix_len())
                .ok_or(FunctionError::CidrPrefix {
                    min: net.prefix_len(),
                    max: net.max_prefix_len(),
                    found: new,
                })?;
            let count = 1u128.checked_shl(u32::from(new - net.prefix_len())).unwrap_or(u128::MAX);
            let index = u128::try_from(index)
                .ok()
                .filter(|i| *i < count)
                .ok_or(FunctionError::SubnetIndex { last: count.saturating_sub(1), found: index })?;
            let size = 1u128.checked_shl(u32::from(net.max_prefix_len() - new)).unwrap_or(0);
            let start = address(&net, number(&net.network()) + index * size)?;
            Ok(V::str(format!("{start}/{new}")))
        })(),
        "cidrhost" => (|| {
            a.arity(2)?;
            let net = network(&a.text(0)?)?;
            let index = u128::try_from(a.int(1)?).map_err(|_| FunctionError::NegativeHostIndex)?;
            let host =
                number(&net.network()).checked_add(index + 1).ok_or(FunctionError::HostIndexTooLarge)?;
            let last = number(&net.broadcast());
            let usable_last = if net.max_prefix_len() == 32 { last.saturating_sub(1) } else { last };
            if host > usable_last {
                return Err(FunctionError::NoUsableHost { network: net.to_string(), index }.into());
            }
            Ok(V::str(address(&net, host)?.to_string()))
        })(),
        _ => return None,
    })
}

fn network(text: &str) -> Result<IpNet, ExprError> {
    text.trim()
        .parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| FunctionError::Unreadable { text: shorten(text), expected: TextKind::Cidr }.into())
}

fn number(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(*v4)),
        IpAddr::V6(v6) => u128::from(*v6),
    }
}

fn address(net: &IpNet, n: u128) -> Result<IpAddr, ExprError> {
    match net {
        IpNet::V4(_) => u32::try_from(n)
            .map(|v| IpAddr::from(std::net::Ipv4Addr::from(v)))
            .map_err(|_| FunctionError::BeyondIpv4.into()),
        IpNet::V6(_) => Ok(IpAddr::from(std::net::Ipv6Addr::from(n))),
    }
}

fn parse_cidr(net: &IpNet) -> Value {
    let (first, last) = match net {
        IpNet::V4(v4) if v4.prefix_len() < 31 => (
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(v4.network()) + 1)),
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(v4.broadcast()) - 1)),
        ),
        _ => (net.network(), net.broadcast()),
    };
    let mut out = json!({
        "network": net.network().to_string(),
        "netmask": net.netmask().to_string(),
        "firstUsable": first.to_string(),
        "lastUsable": last.to_string(),
        "cidr": net.prefix_len(),
    });
    if let (IpNet::V4(v4), Some(m)) = (net, out.as_object_mut()) {
        m.insert("broadcast".into(), Value::String(v4.broadcast().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsofts_examples() {
        let v4 = parse_cidr(&network("10.144.0.0/20").expect("net"));
        assert_eq!(
            v4,
            json!({"network": "10.144.0.0", "netmask": "255.255.240.0", "broadcast": "10.144.15.255",
                   "firstUsable": "10.144.0.1", "lastUsable": "10.144.15.254", "cidr": 20})
        );
        let v6 = parse_cidr(&network("fdad:3236:5555::/48").expect("net"));
        assert_eq!(v6["firstUsable"], "fdad:3236:5555::");
        assert_eq!(v6["lastUsable"], "fdad:3236:5555:ffff:ffff:ffff:ffff:ffff");
        assert_eq!(v6["netmask"], "ffff:ffff:ffff::");
    }
}
