//! The switch core driven in memory, frame by frame, each test asserting the answer Azure's
//! host gives (docs/semantics/dataplane.md §1.3, §4 and §5.2; D1, D2).

use super::*;
use crate::dhcp::tests::discover;
use crate::frame::tests::{checked_udp, fuzz};
use crate::naming::outside_mac;
use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};
use dhcproto::Decodable;
use etherparse::{
    ArpEthIpv4Packet, ArpOperation, ArpPacket, Ethernet2Header, Ethernet2Slice, Ipv4Header,
    PacketBuilder, SlicedPacket, TcpHeader,
};
use vnetlab_engine::routes::RoutingTables;
use vnetlab_engine::security::connection_tracking::TCP_IDLE_SECONDS;
use vnetlab_engine::security::tables::SecurityTables;
use vnetlab_engine::trace::address_index::AddressIndex;
use vnetlab_model::service_tags::ServiceTags;

/// web (10.0.0.4, Standard public IP 198.51.100.20) takes HTTP from anywhere; client
/// (10.0.0.5) denies every inbound flow from the VNet, so only replies reach it.
const LAB: &str = "
location: eastus
vnets:
  myVnet:
    address_space: [10.0.0.0/16]
    subnets:
      default:
        prefix: 10.0.0.0/24
        vms:
          web: { nsg: nsg-web, public_ip: pip-web }
          client: { nsg: nsg-client }
nsgs:
  nsg-web:
    rules:
      - { name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: '80' }
  nsg-client:
    rules:
      - { name: deny-vnet-in, priority: 100, direction: Inbound, access: Deny, protocol: '*', source: VirtualNetwork }
public_ips:
  pip-web: { address: 198.51.100.20, sku: Standard }
";

const WEB: usize = 0;
const CLIENT: usize = 1;
const INTERNET: usize = 2;
const WEB_IP: [u8; 4] = [10, 0, 0, 4];
const CLIENT_IP: [u8; 4] = [10, 0, 0, 5];
const WEB_PUBLIC_IP: [u8; 4] = [198, 51, 100, 20];
const INTERNET_HOST: [u8; 4] = [192, 0, 2, 10];

/// The lab's switch: web's NIC, client's NIC and the Internet, each port holding at most
/// `flows_per_port` flows. The model lives for the test run (the switch borrows it).
fn switch(flows_per_port: usize) -> (Switch<'static>, &'static Counters) {
    let tags = ServiceTags::bundled();
    let t: &'static Topology = Box::leak(Box::new(
        vnetlab_ingest::load_text(LAB, "lab.yaml", vnetlab_ingest::Format::Yaml, tags)
            .expect("valid lab")
            .topology,
    ));
    let fabric = Fabric {
        topology: t,
        routes: Box::leak(Box::new(RoutingTables::compute(t, tags))),
        security: Box::leak(Box::new(SecurityTables::new(t, tags))),
        addresses: Box::leak(Box::new(AddressIndex::new(t))),
    };
    let mut ports: Vec<Port> = t
        .vms
        .iter()
        .map(|vm| Port::nic(t, vm.nics[0], &vm.name))
        .collect();
    ports.push(Port {
        attachment: Attachment::Internet,
        mac: outside_mac(INTERNET),
        lease: None,
    });
    let counters: &'static Counters = Box::leak(Box::default());
    (
        Switch::new(fabric, ports, counters, flows_per_port),
        counters,
    )
}

/// `frame` behind an empty virtio-net header (complete checksums), as a TAP hands it over.
fn from_tap(frame: &[u8]) -> Vec<u8> {
    [&[0; VNET_HDR_LEN][..], frame].concat()
}

/// A TCP segment (SYN, or ACK with `syn` false) with complete checksums, from a TAP.
fn tcp(macs: ([u8; 6], [u8; 6]), src: ([u8; 4], u16), dst: ([u8; 4], u16), syn: bool) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(macs.0, macs.1)
        .ipv4(src.0, dst.0, 64)
        .tcp(src.1, dst.1, 1000, 64240);
    let builder = if syn { builder.syn() } else { builder.ack(1) };
    let mut frame = Vec::new();
    builder.write(&mut frame, &[]).unwrap();
    from_tap(&frame)
}

/// The Ethernet MACs, IPv4 header and TCP header of a forwarded frame, with both checksums
/// verified.
fn forwarded(with_header: &[u8]) -> ([u8; 6], [u8; 6], Ipv4Header, TcpHeader) {
    let frame = &with_header[VNET_HDR_LEN..];
    let (ethernet, _) = Ethernet2Header::from_slice(frame).unwrap();
    let packet = SlicedPacket::from_ethernet(frame).unwrap();
    let Some(etherparse::NetSlice::Ipv4(ip)) = &packet.net else {
        panic!("not IPv4")
    };
    let Some(etherparse::TransportSlice::Tcp(tcp)) = &packet.transport else {
        panic!("not TCP")
    };
    let (ip, tcp_header) = (ip.header().to_header(), tcp.to_header());
    assert_eq!(ip.calc_header_checksum(), ip.header_checksum);
    assert_eq!(
        tcp_header.calc_checksum_ipv4(&ip, tcp.payload()).unwrap(),
        tcp_header.checksum
    );
    (ethernet.source, ethernet.destination, ip, tcp_header)
}

fn mac(switch: &Switch, port: usize) -> [u8; 6] {
    switch.ports()[port].mac
}

#[test]
fn arp_for_the_gateway_or_another_vm_is_answered_by_the_fabric_mac() {
    let (mut switch, counters) = switch(10);
    let client_mac = mac(&switch, CLIENT);
    for asked in [[10, 0, 0, 1], WEB_IP] {
        let request = ArpEthIpv4Packet {
            operation: ArpOperation::REQUEST,
            sender_mac: client_mac,
            sender_ipv4: CLIENT_IP,
            target_mac: [0; 6],
            target_ipv4: asked,
        };
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(client_mac, [0xff; 6])
            .arp(request.into())
            .write(&mut frame)
            .unwrap();
        let Output::Reply(reply) = switch.handle(CLIENT, &mut from_tap(&frame), 0) else {
            panic!("ARP is answered by the host")
        };
        let ethernet = Ethernet2Slice::from_slice_without_fcs(&reply).unwrap();
        let arp = ArpPacket::from_slice(ethernet.payload_slice())
            .unwrap()
            .try_eth_ipv4()
            .unwrap();
        // D1: 12:34:56:78:9a:bc answers, whatever address is asked for.
        assert_eq!(FABRIC_MAC, [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
        assert_eq!(
            (ethernet.source(), ethernet.destination()),
            (FABRIC_MAC, client_mac)
        );
        assert_eq!(
            (arp.operation, arp.sender_mac, arp.sender_ipv4),
            (ArpOperation::REPLY, FABRIC_MAC, asked)
        );
        assert_eq!((arp.target_mac, arp.target_ipv4), (client_mac, CLIENT_IP));
    }
    assert_eq!(counters.arp_answered.load(Ordering::Relaxed), 2);
}

#[test]
fn dhcp_hands_each_nic_its_address_from_the_model_router_dot_1_and_azure_dns() {
    let (mut switch, counters) = switch(10);
    for (port, address) in [(WEB, WEB_IP), (CLIENT, CLIENT_IP)] {
        let Output::Reply(offer) = switch.handle(port, &mut from_tap(&discover()), 0) else {
            panic!("DHCP is answered by the host")
        };
        let (ethernet, ip, udp, payload) = checked_udp(&offer);
        assert_eq!(ethernet.source, FABRIC_MAC);
        assert_eq!(
            (ip.source, udp.source_port, udp.destination_port),
            ([168, 63, 129, 16], 67, 68)
        );
        let message = Message::from_bytes(&payload).unwrap();
        assert_eq!(message.opts().msg_type(), Some(MessageType::Offer));
        assert_eq!(message.yiaddr().octets(), address);
        for option in [
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            DhcpOption::Router(vec![Ipv4Addr::new(10, 0, 0, 1)]),
            DhcpOption::DomainNameServer(vec![Ipv4Addr::new(168, 63, 129, 16)]),
        ] {
            assert_eq!(message.opts().get(OptionCode::from(&option)), Some(&option));
        }
    }
    // The Internet's namespace has no lease: its DHCP broadcast goes nowhere.
    assert_eq!(
        switch.handle(INTERNET, &mut from_tap(&discover()), 0),
        Output::Dropped(Reason::Broadcast)
    );
    assert_eq!(counters.dhcp_answered.load(Ordering::Relaxed), 2);
}

#[test]
fn a_tcp_handshake_passes_the_nsgs_one_way_and_its_reply_statefully() {
    let (mut switch, counters) = switch(10);
    let (web_mac, client_mac) = (mac(&switch, WEB), mac(&switch, CLIENT));
    // client -> web:80, allowed by allow-http: delivered VM to VM with the sender's MAC (D2).
    let mut syn = tcp(
        (client_mac, FABRIC_MAC),
        (CLIENT_IP, 50000),
        (WEB_IP, 80),
        true,
    );
    assert_eq!(switch.handle(CLIENT, &mut syn, 0), Output::Forward(WEB));
    let (src_mac, dst_mac, ip, _) = forwarded(&syn);
    assert_eq!((src_mac, dst_mac), (client_mac, web_mac));
    assert_eq!(
        (ip.source, ip.destination, ip.time_to_live),
        (CLIENT_IP, WEB_IP, 64)
    );
    // The SYN-ACK meets deny-vnet-in, but it is the allowed flow's reply (§1.3): delivered.
    let mut syn_ack = tcp(
        (web_mac, FABRIC_MAC),
        (WEB_IP, 80),
        (CLIENT_IP, 50000),
        false,
    );
    assert_eq!(switch.handle(WEB, &mut syn_ack, 1), Output::Forward(CLIENT));
    assert_eq!(forwarded(&syn_ack).1, client_mac);
    let mut ack = tcp(
        (client_mac, FABRIC_MAC),
        (CLIENT_IP, 50000),
        (WEB_IP, 80),
        false,
    );
    assert_eq!(switch.handle(CLIENT, &mut ack, 2), Output::Forward(WEB));
    // A connection web -> client is a new inbound flow for client: deny-vnet-in drops it.
    let mut denied = tcp(
        (web_mac, FABRIC_MAC),
        (WEB_IP, 50001),
        (CLIENT_IP, 22),
        true,
    );
    assert_eq!(
        switch.handle(WEB, &mut denied, 3),
        Output::Dropped(Reason::Policy)
    );
    assert_eq!(counters.dropped_by_policy.load(Ordering::Relaxed), 1);
}

#[test]
fn the_internet_reaches_a_vm_by_its_public_ip_and_the_reply_leaves_from_it() {
    let (mut switch, _) = switch(10);
    let (web_mac, internet_mac) = (mac(&switch, WEB), mac(&switch, INTERNET));
    // §5.2: the public IP is translated to the private address on the way in ...
    let mut request = tcp(
        (internet_mac, FABRIC_MAC),
        (INTERNET_HOST, 40000),
        (WEB_PUBLIC_IP, 80),
        true,
    );
    assert_eq!(
        switch.handle(INTERNET, &mut request, 0),
        Output::Forward(WEB)
    );
    let (src_mac, dst_mac, ip, tcp_header) = forwarded(&request);
    assert_eq!((src_mac, dst_mac), (FABRIC_MAC, web_mac));
    assert_eq!((ip.source, ip.destination), (INTERNET_HOST, WEB_IP));
    assert_eq!(
        (tcp_header.source_port, tcp_header.destination_port),
        (40000, 80)
    );
    // ... and back on the way out: the reply comes from 198.51.100.20.
    let mut reply = tcp(
        (web_mac, FABRIC_MAC),
        (WEB_IP, 80),
        (INTERNET_HOST, 40000),
        false,
    );
    assert_eq!(switch.handle(WEB, &mut reply, 1), Output::Forward(INTERNET));
    let (src_mac, dst_mac, ip, tcp_header) = forwarded(&reply);
    assert_eq!((src_mac, dst_mac), (FABRIC_MAC, internet_mac));
    assert_eq!((ip.source, ip.destination), (WEB_PUBLIC_IP, INTERNET_HOST));
    assert_eq!(
        (tcp_header.source_port, tcp_header.destination_port),
        (80, 40000)
    );
}

#[test]
fn a_full_flow_table_refuses_new_flows_until_one_idles_out() {
    let (mut switch, counters) = switch(2);
    let client_mac = mac(&switch, CLIENT);
    let syn = |source_port| {
        tcp(
            (client_mac, FABRIC_MAC),
            (CLIENT_IP, source_port),
            (WEB_IP, 80),
            true,
        )
    };
    assert_eq!(
        switch.handle(CLIENT, &mut syn(50001), 0),
        Output::Forward(WEB)
    );
    assert_eq!(
        switch.handle(CLIENT, &mut syn(50002), 10),
        Output::Forward(WEB)
    );
    // Two live flows fill the port: a third is refused, the live ones keep flowing.
    assert_eq!(
        switch.handle(CLIENT, &mut syn(50003), 20),
        Output::Dropped(Reason::FlowLimit)
    );
    assert_eq!(
        switch.handle(CLIENT, &mut syn(50001), 30),
        Output::Forward(WEB)
    );
    assert_eq!(counters.dropped_flow_limit.load(Ordering::Relaxed), 1);
    // Once the flow last seen at 10 is idle past TCP's 4 minutes, a new flow fits.
    let later = 10 + TCP_IDLE_SECONDS + 1;
    assert_eq!(
        switch.handle(CLIENT, &mut syn(50003), later),
        Output::Forward(WEB)
    );
    switch.expire(later);
    assert_eq!(counters.flows.load(Ordering::Relaxed), 2);
}

#[test]
fn garbage_is_counted_and_dropped() {
    let (mut switch, counters) = switch(10);
    let client_mac = mac(&switch, CLIENT);
    let valid = tcp(
        (client_mac, FABRIC_MAC),
        (CLIENT_IP, 50000),
        (WEB_IP, 80),
        true,
    );
    let mut bad_checksum = valid.clone();
    bad_checksum[VNET_HDR_LEN + 14 + 10] ^= 0xff;
    let mut ipv6 = valid.clone();
    ipv6[VNET_HDR_LEN + 12..VNET_HDR_LEN + 14].copy_from_slice(&[0x86, 0xdd]);
    let mut broadcast = valid.clone();
    broadcast[VNET_HDR_LEN..VNET_HDR_LEN + 6].copy_from_slice(&[0xff; 6]);
    for (mut frame, reason) in [
        (vec![0; VNET_HDR_LEN], Reason::Malformed),
        (valid[..VNET_HDR_LEN + 13].to_vec(), Reason::Malformed),
        (valid[..VNET_HDR_LEN + 30].to_vec(), Reason::Malformed),
        (bad_checksum, Reason::BadChecksum),
        (ipv6, Reason::Protocol),
        (broadcast, Reason::Broadcast),
    ] {
        assert_eq!(
            switch.handle(CLIENT, &mut frame, 0),
            Output::Dropped(reason)
        );
    }
    let snapshot = counters.snapshot();
    for (name, count) in [
        ("framesIn", 6),
        ("droppedMalformed", 3),
        ("droppedBadChecksum", 1),
        ("droppedProtocol", 1),
        ("droppedBroadcastMulticast", 1),
        ("flows", 0),
    ] {
        assert!(
            snapshot.contains(&(name, count)),
            "{name} {count}: {snapshot:?}"
        );
    }
    // Mutated and random frames never panic, and each is counted on the way in.
    let switch = std::cell::RefCell::new(switch);
    let before = counters.frames_in.load(Ordering::Relaxed);
    let seen = std::cell::Cell::new(0);
    fuzz(&valid, |frame| {
        seen.set(seen.get() + 1);
        switch.borrow_mut().handle(CLIENT, &mut frame.to_vec(), 0);
    });
    assert_eq!(
        counters.frames_in.load(Ordering::Relaxed) - before,
        seen.get()
    );
}
