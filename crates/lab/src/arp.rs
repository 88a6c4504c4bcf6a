//! ARP in a VNet: the fabric answers every request itself (docs/semantics/dataplane.md 4.4; D1 in
//! docs/semantics/decisions.md). VNets have no L2, so a request never reaches another VM.

use etherparse::{
    ArpEthIpv4Packet, ArpOperation, ArpPacket, EtherType, Ethernet2Slice, PacketBuilder,
};

use crate::frame::FABRIC_MAC;

/// D1: the reply to an ARP request frame (Ethernet II, ethertype 0x0806, IPv4 over Ethernet,
/// op 1), sent from [`FABRIC_MAC`]: sender = (`FABRIC_MAC`, the asked target IP), target = the
/// requester's MAC and IP; Ethernet destination = the requester's MAC. `None` for anything else:
/// replies, gratuitous ARP (sender IP == target IP), probes (sender IP 0.0.0.0, RFC 5227: a
/// guest checking its own address must not see it taken), truncated or malformed frames.
pub fn reply(frame: &[u8]) -> Option<Vec<u8>> {
    let ethernet = Ethernet2Slice::from_slice_without_fcs(frame).ok()?;
    if ethernet.ether_type() != EtherType::ARP {
        return None;
    }
    let request = ArpPacket::from_slice(ethernet.payload_slice())
        .ok()?
        .try_eth_ipv4()
        .ok()?;
    if request.operation != ArpOperation::REQUEST
        || request.sender_ipv4 == request.target_ipv4
        || request.sender_ipv4 == [0; 4]
    {
        return None;
    }
    // D1: whatever address is asked for (the gateway .1 or another VM), the fabric's MAC answers.
    let answer = ArpEthIpv4Packet {
        operation: ArpOperation::REPLY,
        sender_mac: FABRIC_MAC,
        sender_ipv4: request.target_ipv4,
        target_mac: request.sender_mac,
        target_ipv4: request.sender_ipv4,
    };
    let mut out = Vec::new();
    PacketBuilder::ethernet2(FABRIC_MAC, request.sender_mac)
        .arp(answer.into())
        .write(&mut out)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VM_MAC: [u8; 6] = [0x00, 0x0d, 0x3a, 0x00, 0x00, 0x04];
    const VM_IP: [u8; 4] = [10, 1, 0, 4];

    /// An ARP frame from the VM (10.1.0.4) to the broadcast address.
    fn arp_frame(operation: ArpOperation, sender_ipv4: [u8; 4], target_ipv4: [u8; 4]) -> Vec<u8> {
        let packet = ArpEthIpv4Packet {
            operation,
            sender_mac: VM_MAC,
            sender_ipv4,
            target_mac: [0; 6],
            target_ipv4,
        };
        let mut out = Vec::new();
        PacketBuilder::ethernet2(VM_MAC, [0xff; 6])
            .arp(packet.into())
            .write(&mut out)
            .unwrap();
        out
    }

    /// The ARP request "who has 10.1.0.1, tell 10.1.0.4", as a VM sends it for its gateway.
    fn gateway_request() -> Vec<u8> {
        arp_frame(ArpOperation::REQUEST, VM_IP, [10, 1, 0, 1])
    }

    fn parse(frame: &[u8]) -> ([u8; 6], [u8; 6], ArpEthIpv4Packet) {
        let ethernet = Ethernet2Slice::from_slice_without_fcs(frame).unwrap();
        assert_eq!(ethernet.ether_type(), EtherType::ARP);
        let arp = ArpPacket::from_slice(ethernet.payload_slice())
            .unwrap()
            .try_eth_ipv4()
            .unwrap();
        (ethernet.source(), ethernet.destination(), arp)
    }

    #[test]
    fn requests_for_the_gateway_and_for_another_vm_are_answered_by_the_fabric_mac() {
        for asked in [[10, 1, 0, 1], [10, 1, 0, 5]] {
            let (source, destination, arp) =
                parse(&reply(&arp_frame(ArpOperation::REQUEST, VM_IP, asked)).unwrap());
            assert_eq!((source, destination), (FABRIC_MAC, VM_MAC));
            assert_eq!(
                arp,
                ArpEthIpv4Packet {
                    operation: ArpOperation::REPLY,
                    sender_mac: FABRIC_MAC,
                    sender_ipv4: asked,
                    target_mac: VM_MAC,
                    target_ipv4: VM_IP,
                }
            );
        }
    }

    #[test]
    fn replies_gratuitous_arp_probes_and_other_ethertypes_get_no_answer() {
        assert_eq!(
            reply(&arp_frame(ArpOperation::REPLY, VM_IP, [10, 1, 0, 1])),
            None
        );
        assert_eq!(reply(&arp_frame(ArpOperation::REQUEST, VM_IP, VM_IP)), None);
        assert_eq!(
            reply(&arp_frame(ArpOperation::REQUEST, [0; 4], VM_IP)),
            None
        );
        let mut ipv4 = gateway_request();
        ipv4[12..14].copy_from_slice(&EtherType::IPV4.0.to_be_bytes());
        assert_eq!(reply(&ipv4), None);
    }

    #[test]
    fn truncated_requests_get_no_answer() {
        let request = gateway_request();
        for len in 0..request.len() {
            assert_eq!(reply(&request[..len]), None, "truncated to {len} bytes");
        }
    }

    #[test]
    fn truncated_mutated_and_random_frames_do_not_panic() {
        crate::frame::tests::fuzz(&gateway_request(), |frame| {
            reply(frame);
        });
    }
}
