//! The 5-tuple that every evaluation is about.

use std::fmt;
use std::net::IpAddr;

use super::IpProtocol;

/// One packet's (or connection's) 5-tuple, as NSGs see it.
///
/// For protocols without ports (ICMP, ESP, AH, …) both ports are carried as 0 and rules ignore
/// them only when their port condition is `*`; see `matcher` for the exact rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    /// IP protocol.
    pub protocol: IpProtocol,
    /// Source address.
    pub src: IpAddr,
    /// Source port (0 for portless protocols).
    pub src_port: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port (0 for portless protocols).
    pub dst_port: u16,
}

impl Flow {
    /// A flow; ports are zeroed for protocols that have none.
    pub fn new(protocol: IpProtocol, src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> Flow {
        let (src_port, dst_port) = if protocol.has_ports() { (src_port, dst_port) } else { (0, 0) };
        Flow { protocol, src, src_port, dst, dst_port }
    }

    /// The reply direction of this flow: addresses and ports swapped.
    pub fn reversed(&self) -> Flow {
        Flow {
            protocol: self.protocol,
            src: self.dst,
            src_port: self.dst_port,
            dst: self.src,
            dst_port: self.src_port,
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.protocol.has_ports() {
            write!(f, "{} {}:{} -> {}:{}", self.protocol, self.src, self.src_port, self.dst, self.dst_port)
        } else {
            write!(f, "{} {} -> {}", self.protocol, self.src, self.dst)
        }
    }
}
