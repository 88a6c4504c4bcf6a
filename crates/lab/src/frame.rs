//! Frames the fabric itself sends: the address it sends them from (D1 and D2 in
//! docs/semantics/decisions.md; docs/semantics/dataplane.md 4.4) and the Ethernet/IPv4/UDP framing of its
//! DHCP replies (docs/semantics/dataplane.md 4.3).

use std::net::SocketAddrV4;

use etherparse::PacketBuilder;

/// The MAC that answers every ARP request in a VNet and that frames from the fabric come from
/// (D1, D2).
pub const FABRIC_MAC: [u8; 6] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc];

/// Builds an Ethernet II + IPv4 + UDP frame with correct IPv4 and UDP checksums, TTL 64.
///
/// Panics if `payload` does not fit in one UDP datagram (65,507 bytes); the fabric's replies are
/// a few hundred bytes.
pub fn udp_frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv4(src.ip().octets(), dst.ip().octets(), 64)
        .udp(src.port(), dst.port());
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut frame, payload)
        .expect("the payload fits in one UDP datagram");
    frame
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use etherparse::{
        Ethernet2Header, Ipv4Header, NetSlice, SlicedPacket, TransportSlice, UdpHeader,
    };
    use std::net::Ipv4Addr;

    /// Splits an Ethernet/IPv4/UDP frame into its headers and payload, asserting that the IPv4
    /// header checksum and the UDP checksum verify.
    pub(crate) fn checked_udp(frame: &[u8]) -> (Ethernet2Header, Ipv4Header, UdpHeader, Vec<u8>) {
        let packet = SlicedPacket::from_ethernet(frame).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &packet.net else {
            panic!("not IPv4: {packet:?}")
        };
        let Some(TransportSlice::Udp(udp)) = &packet.transport else {
            panic!("not UDP: {packet:?}")
        };
        let (ip, udp, payload) = (ip.header().to_header(), udp.to_header(), udp.payload());
        assert_eq!(
            ip.calc_header_checksum(),
            ip.header_checksum,
            "IPv4 header checksum"
        );
        assert_eq!(
            udp.calc_checksum_ipv4(&ip, payload).unwrap(),
            udp.checksum,
            "UDP checksum"
        );
        let ethernet = packet
            .link
            .unwrap()
            .to_header()
            .unwrap()
            .ethernet2()
            .unwrap();
        (ethernet, ip, udp, payload.to_vec())
    }

    /// Feeds `handler` every truncation of `valid`, 2,000 copies of it with a few bytes changed
    /// and 2,000 random byte strings (xorshift with a fixed seed, so failures reproduce). The
    /// handlers must not panic on any of them.
    pub(crate) fn fuzz(valid: &[u8], handler: impl Fn(&[u8])) {
        for len in 0..valid.len() {
            handler(&valid[..len]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize
        };
        for _ in 0..2_000 {
            let mut mutated = valid.to_vec();
            for _ in 0..1 + next() % 4 {
                let at = next() % mutated.len();
                mutated[at] = next() as u8;
            }
            handler(&mutated);
            let random: Vec<u8> = (0..next() % (2 * valid.len()))
                .map(|_| next() as u8)
                .collect();
            handler(&random);
        }
    }

    #[test]
    fn udp_frame_has_the_given_addresses_ttl_64_and_valid_checksums() {
        let src = SocketAddrV4::new(Ipv4Addr::new(168, 63, 129, 16), 53);
        let dst = SocketAddrV4::new(Ipv4Addr::new(10, 1, 0, 4), 40000);
        let vm_mac = [2, 0, 0, 0, 0, 4];
        let (ethernet, ip, udp, payload) =
            checked_udp(&udp_frame(FABRIC_MAC, vm_mac, src, dst, b"hello"));
        assert_eq!(
            (ethernet.source, ethernet.destination),
            (FABRIC_MAC, vm_mac)
        );
        assert_eq!(ip.time_to_live, 64);
        assert_eq!((ip.source, udp.source_port), (src.ip().octets(), 53));
        assert_eq!(
            (ip.destination, udp.destination_port),
            (dst.ip().octets(), 40000)
        );
        assert_eq!(payload, b"hello");
    }
}
