//! The five-tuple a decision is made on: what NSGs match (docs/semantics/dataplane.md 1.3) and what the flow
//! table keys on. Protocols without ports (ICMP, ESP, AH) carry port 0.

use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 50 ESP, 51 AH.
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
}

impl FiveTuple {
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMP: u8 = 1;

    /// The same flow seen from the other end.
    pub fn reversed(self) -> FiveTuple {
        FiveTuple {
            src: self.dst,
            dst: self.src,
            protocol: self.protocol,
            src_port: self.dst_port,
            dst_port: self.src_port,
        }
    }
}
