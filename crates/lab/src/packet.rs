//! The IPv4 frames the switch moves: their flow (5-tuple), checked as a NIC would check them
//! (malformed frames and bad checksums are dropped and counted, Live lab issue), and rewritten
//! for delivery: MAC addresses (D2) and, for public IPs, the addresses and ports NAT changes
//! (docs/semantics/dataplane.md 5.2), with the checksums made right again. TTL is left alone (D3).

use etherparse::checksum::Sum16BitWords;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::net::Ipv4Addr;
use vnetlab_engine::flow::FiveTuple;

pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
const ETH: usize = 14;

/// An IPv4 frame the switch can route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Frame {
    /// The flow. ICMP echo carries its identifier as a port (the request's source port, the
    /// reply's destination port), so a reply is its request reversed and the peer's own echo
    /// request is a flow of its own.
    pub tuple: FiveTuple,
    /// For an ICMP error (unreachable, time exceeded, parameter problem): the flow of the
    /// packet it quotes, which it belongs to.
    pub related: Option<FiveTuple>,
    /// Offset of the transport header.
    pub l4: usize,
    /// Bytes of IPv4 header and payload.
    pub ip_len: usize,
}

/// Why a frame is not routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unroutable {
    Malformed,
    BadChecksum,
    Fragment,
}

pub fn ethertype(frame: &[u8]) -> Option<u16> {
    frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// Broadcast and multicast destinations (the group bit of the first octet).
pub fn group_destination(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 1)
}

fn ones_complement_ok(sum: Sum16BitWords) -> bool {
    sum.ones_complement() == 0
}

fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: usize) -> Sum16BitWords {
    Sum16BitWords::new()
        .add_4bytes(src.octets())
        .add_4bytes(dst.octets())
        .add_2bytes([0, protocol])
        .add_2bytes((len as u16).to_be_bytes())
}

/// How the sender left the frame's checksums (its virtio-net header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksums {
    /// Complete: they must verify.
    Complete,
    /// The transport checksum holds only the pseudo-header's sum, completed by the receiver
    /// (checksum offload); a segmentation-offloaded frame's IP header is completed per segment.
    Partial { segmented: bool },
}

/// Parses and checks an IPv4 frame: the checksums the sender completed must verify.
pub fn parse_ipv4(frame: &[u8], sums: Checksums) -> Result<Ipv4Frame, Unroutable> {
    let sliced = SlicedPacket::from_ethernet(frame).map_err(|_| Unroutable::Malformed)?;
    let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
        return Err(Unroutable::Malformed);
    };
    let header = ip.header();
    let (check_ip, check_l4) = match sums {
        Checksums::Complete => (true, true),
        Checksums::Partial { segmented } => (!segmented, false),
    };
    if check_ip && !ones_complement_ok(Sum16BitWords::new().add_slice(header.slice())) {
        return Err(Unroutable::BadChecksum);
    }
    if ip.is_payload_fragmented() {
        return Err(Unroutable::Fragment);
    }
    let (src, dst, protocol) = (
        header.source_addr(),
        header.destination_addr(),
        header.protocol().0,
    );
    let l4 = ETH + header.slice().len();
    let ip_len = usize::from(header.total_len());
    let segment = frame.get(l4..ETH + ip_len).ok_or(Unroutable::Malformed)?;
    let (src_port, dst_port) = match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            if check_l4
                && !ones_complement_ok(
                    pseudo_header(src, dst, protocol, segment.len()).add_slice(segment),
                )
            {
                return Err(Unroutable::BadChecksum);
            }
            (t.source_port(), t.destination_port())
        }
        Some(TransportSlice::Udp(u)) => {
            if check_l4
                && u.checksum() != 0
                && !ones_complement_ok(
                    pseudo_header(src, dst, protocol, segment.len()).add_slice(segment),
                )
            {
                return Err(Unroutable::BadChecksum);
            }
            (u.source_port(), u.destination_port())
        }
        Some(TransportSlice::Icmpv4(icmp)) => {
            if check_l4 && !ones_complement_ok(Sum16BitWords::new().add_slice(segment)) {
                return Err(Unroutable::BadChecksum);
            }
            let id = u16::from_be_bytes([icmp.bytes5to8()[0], icmp.bytes5to8()[1]]);
            match icmp.type_u8() {
                ICMP_ECHO_REQUEST => (id, 0),
                ICMP_ECHO_REPLY => (0, id),
                _ => (0, 0),
            }
        }
        // Other protocols (ESP, AH, GRE, ...) carry no ports the fabric reads.
        None if !matches!(protocol, 6 | 17 | 1) => (0, 0),
        _ => return Err(Unroutable::Malformed),
    };
    let related = match &sliced.transport {
        Some(TransportSlice::Icmpv4(icmp)) if ICMP_ERRORS.contains(&icmp.type_u8()) => {
            quoted(icmp.payload())
        }
        _ => None,
    };
    Ok(Ipv4Frame {
        tuple: FiveTuple {
            src,
            dst,
            protocol,
            src_port,
            dst_port,
        },
        related,
        l4,
        ip_len,
    })
}

const ICMP_ECHO_REPLY: u8 = 0;
const ICMP_ECHO_REQUEST: u8 = 8;
/// Destination unreachable, time exceeded, parameter problem.
const ICMP_ERRORS: [u8; 3] = [3, 11, 12];

/// The flow of the packet an ICMP error quotes (its IP header and first 8 bytes).
fn quoted(payload: &[u8]) -> Option<FiveTuple> {
    let ihl = usize::from(payload.first()? & 0x0f) * 4;
    let (ip, rest) = (payload.get(..20)?, payload.get(ihl..)?);
    let addr = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
    let port = |at: usize| {
        rest.get(at..at + 2)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    };
    let protocol = ip[9];
    let (src_port, dst_port) = match protocol {
        FiveTuple::TCP | FiveTuple::UDP => (port(0), port(2)),
        FiveTuple::ICMP if rest.first() == Some(&ICMP_ECHO_REQUEST) => (port(4), 0),
        _ => (0, 0),
    };
    Some(FiveTuple {
        src: addr(12),
        dst: addr(16),
        protocol,
        src_port,
        dst_port,
    })
}

/// Sets the frame's MAC addresses.
pub fn set_macs(frame: &mut [u8], src: [u8; 6], dst: [u8; 6]) {
    frame[0..6].copy_from_slice(&dst);
    frame[6..12].copy_from_slice(&src);
}

/// Rewrites addresses and ports to `to` (NAT) and recomputes the checksums: in full, or for a
/// partial checksum the pseudo-header's sum the receiver completes. The sums are of
/// native-endian words (etherparse's), so they are stored native-endian too.
pub fn translate(frame: &mut [u8], f: &Ipv4Frame, to: &FiveTuple, sums: Checksums) {
    frame[ETH + 12..ETH + 16].copy_from_slice(&to.src.octets());
    frame[ETH + 16..ETH + 20].copy_from_slice(&to.dst.octets());
    frame[ETH + 10..ETH + 12].fill(0);
    let sum = Sum16BitWords::new()
        .add_slice(&frame[ETH..f.l4])
        .ones_complement();
    frame[ETH + 10..ETH + 12].copy_from_slice(&sum.to_ne_bytes());
    let checksum_at = match to.protocol {
        FiveTuple::TCP => f.l4 + 16,
        FiveTuple::UDP => f.l4 + 6,
        _ => return,
    };
    frame[f.l4..f.l4 + 2].copy_from_slice(&to.src_port.to_be_bytes());
    frame[f.l4 + 2..f.l4 + 4].copy_from_slice(&to.dst_port.to_be_bytes());
    if to.protocol == FiveTuple::UDP && frame[checksum_at..checksum_at + 2] == [0, 0] {
        return;
    }
    let end = ETH + f.ip_len;
    if let Checksums::Partial { .. } = sums {
        let pseudo = !pseudo_header(to.src, to.dst, to.protocol, end - f.l4).ones_complement();
        frame[checksum_at..checksum_at + 2].copy_from_slice(&pseudo.to_ne_bytes());
        return;
    }
    frame[checksum_at..checksum_at + 2].fill(0);
    let mut sum = pseudo_header(to.src, to.dst, to.protocol, end - f.l4)
        .add_slice(&frame[f.l4..end])
        .ones_complement();
    if to.protocol == FiveTuple::UDP && sum == 0 {
        sum = 0xffff;
    }
    frame[checksum_at..checksum_at + 2].copy_from_slice(&sum.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame() -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(
            [0, 0x0d, 0x3a, 0, 0, 1],
            [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc],
        )
        .ipv4([10, 1, 0, 4], [192, 0, 2, 10], 64)
        .tcp(49152, 443, 1, 1000)
        .write(&mut out, b"hello")
        .unwrap();
        out
    }

    #[test]
    fn a_frame_gives_its_flow_and_nat_keeps_checksums_valid() {
        let mut frame = tcp_frame();
        let f = parse_ipv4(&frame, Checksums::Complete).unwrap();
        assert_eq!(
            (f.tuple.src, f.tuple.dst, f.tuple.protocol, f.tuple.dst_port),
            (
                Ipv4Addr::new(10, 1, 0, 4),
                Ipv4Addr::new(192, 0, 2, 10),
                6,
                443
            )
        );
        // SNAT to a public IP (D15 range), as an instance public IP does (docs/semantics/dataplane.md 5.2).
        let to = FiveTuple {
            src: Ipv4Addr::new(198, 51, 100, 4),
            ..f.tuple
        };
        translate(&mut frame, &f, &to, Checksums::Complete);
        assert_eq!(
            parse_ipv4(&frame, Checksums::Complete).unwrap().tuple,
            to,
            "the translated frame parses, checksums valid"
        );
        // And the checksums are the ones a fresh frame of the translated flow carries.
        let mut fresh = Vec::new();
        PacketBuilder::ethernet2(
            [0, 0x0d, 0x3a, 0, 0, 1],
            [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc],
        )
        .ipv4([198, 51, 100, 4], [192, 0, 2, 10], 64)
        .tcp(49152, 443, 1, 1000)
        .write(&mut fresh, b"hello")
        .unwrap();
        assert_eq!(frame, fresh);
    }

    #[test]
    fn corrupt_frames_are_refused_never_routed() {
        let mut frame = tcp_frame();
        let last = frame.len() - 1;
        frame[last] ^= 0xff;
        assert_eq!(
            parse_ipv4(&frame, Checksums::Complete),
            Err(Unroutable::BadChecksum)
        );
        // Left for the receiver (checksum offload), the transport checksum is not checked.
        assert!(parse_ipv4(&frame, Checksums::Partial { segmented: false }).is_ok());
        let good = tcp_frame();
        for cut in 0..good.len() {
            assert!(
                parse_ipv4(&good[..cut], Checksums::Complete).is_err(),
                "a frame cut at {cut} bytes is refused"
            );
        }
    }
}
