//! Azure DHCP: the fabric hands each NIC its primary private IPv4 address, with the subnet's `.1`
//! as router and 168.63.129.16 as server and DNS server (docs/semantics/dataplane.md 4.2 and 4.3).

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{borrowed, DhcpOption, HType, Message, MessageType, Opcode, OptionCode};
use dhcproto::Encodable;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use crate::frame::{udp_frame, FABRIC_MAC};

/// Azure's virtual public IP: the DHCP server identifier and the VNet's default DNS server.
pub const SERVER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);

const SERVER_PORT: u16 = 67;
const CLIENT_PORT: u16 = 68;

/// RFC 1542 2.1: a BOOTP message is at least 300 bytes; some clients drop shorter ones.
const MIN_MESSAGE_LEN: usize = 300;

/// What Azure DHCP hands one NIC: its primary private IPv4 address and the subnet around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub router: Ipv4Addr,
    pub dns: Ipv4Addr,
    pub lease_seconds: u32,
    pub hostname: Option<String>,
}

/// If `frame` is a DHCP client message (Ethernet/IPv4/UDP 68 -> 67, BOOTREQUEST), the server's
/// reply frame for the NIC whose lease this is: DISCOVER -> OFFER; REQUEST for the lease's
/// address (requested-IP option, else ciaddr) -> ACK; REQUEST for any other address -> NAK;
/// RELEASE, DECLINE, INFORM and others -> `None`. Also `None` for non-DHCP or malformed frames.
///
/// The reply comes from [`FABRIC_MAC`] to the client's chaddr, from [`SERVER`]:67 to port 68 of
/// yiaddr (255.255.255.255 for a NAK or when the client set the broadcast flag), echoes xid,
/// flags, giaddr and chaddr. An OFFER or ACK carries yiaddr = `lease.ip` and the options message
/// type, server identifier, lease time, renewal (T1 = 1/2) and rebinding (T2 = 7/8) times, subnet
/// mask, router, domain name server, and host name if set. A NAK carries yiaddr 0.0.0.0 and only
/// message type and server identifier (RFC 2131 table 3).
pub fn reply(frame: &[u8], lease: &Lease) -> Option<Vec<u8>> {
    let packet = SlicedPacket::from_ethernet(frame).ok()?;
    let (Some(NetSlice::Ipv4(_)), Some(TransportSlice::Udp(udp))) =
        (&packet.net, &packet.transport)
    else {
        return None;
    };
    if (udp.source_port(), udp.destination_port()) != (CLIENT_PORT, SERVER_PORT) {
        return None;
    }
    let request = borrowed::Message::new(udp.payload()).ok()?;
    // Checked before chaddr(), which slices by hlen.
    if request.opcode() != Opcode::BootRequest
        || request.htype() != HType::Eth
        || request.hlen() != 6
    {
        return None;
    }
    let client_mac: [u8; 6] = request.chaddr().try_into().ok()?;
    let Some(DhcpOption::MessageType(client_type)) = option(&request, OptionCode::MessageType)
    else {
        return None;
    };
    let message_type = match client_type {
        MessageType::Discover => MessageType::Offer,
        MessageType::Request => {
            let asked = match option(&request, OptionCode::RequestedIpAddress) {
                Some(DhcpOption::RequestedIpAddress(ip)) => ip,
                _ => request.ciaddr(),
            };
            if asked == lease.ip {
                MessageType::Ack
            } else {
                MessageType::Nak
            }
        }
        _ => return None,
    };
    let nak = message_type == MessageType::Nak;
    let yiaddr = if nak { Ipv4Addr::UNSPECIFIED } else { lease.ip };

    let mut message = Message::new_with_id(
        request.xid(),
        Ipv4Addr::UNSPECIFIED,
        yiaddr,
        Ipv4Addr::UNSPECIFIED,
        request.giaddr(),
        &client_mac,
    );
    message
        .set_opcode(Opcode::BootReply)
        .set_flags(request.flags());
    let opts = message.opts_mut();
    opts.insert(DhcpOption::MessageType(message_type));
    opts.insert(DhcpOption::ServerIdentifier(SERVER));
    if !nak {
        let seconds = lease.lease_seconds;
        let mask = u32::MAX
            .checked_shr(lease.prefix_len.into())
            .map_or(u32::MAX, |host| !host);
        opts.insert(DhcpOption::AddressLeaseTime(seconds));
        opts.insert(DhcpOption::Renewal(seconds / 2)); // T1 = 1/2
        opts.insert(DhcpOption::Rebinding(seconds - seconds / 8)); // T2 = 7/8
        opts.insert(DhcpOption::SubnetMask(mask.into()));
        opts.insert(DhcpOption::Router(vec![lease.router]));
        opts.insert(DhcpOption::DomainNameServer(vec![lease.dns]));
        if let Some(hostname) = &lease.hostname {
            opts.insert(DhcpOption::Hostname(hostname.clone()));
        }
    }
    let mut payload = message.to_vec().ok()?;
    payload.resize(payload.len().max(MIN_MESSAGE_LEN), 0);

    let destination = if nak || request.flags().broadcast() {
        Ipv4Addr::BROADCAST
    } else {
        yiaddr
    };
    Some(udp_frame(
        FABRIC_MAC,
        client_mac,
        SocketAddrV4::new(SERVER, SERVER_PORT),
        SocketAddrV4::new(destination, CLIENT_PORT),
        &payload,
    ))
}

/// Option `code` of `request`, decoded. Only the options the server reads are decoded: dhcproto's
/// whole-message decoder panics (debug assertions) on some malformed options.
fn option(request: &borrowed::Message, code: OptionCode) -> Option<DhcpOption> {
    request
        .opts()
        .find(|option| option.code() == code)?
        .into_option()
        .ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::frame::tests::{checked_udp, fuzz};
    use dhcproto::v4::Flags;
    use dhcproto::Decodable;

    const VM_MAC: [u8; 6] = [0x00, 0x0d, 0x3a, 0x00, 0x00, 0x04];
    const XID: u32 = 0x1234_5678;

    fn lease() -> Lease {
        Lease {
            ip: Ipv4Addr::new(10, 1, 0, 4),
            prefix_len: 24,
            router: Ipv4Addr::new(10, 1, 0, 1),
            dns: SERVER,
            lease_seconds: 86_400,
            hostname: Some("vm1".into()),
        }
    }

    /// A client message as busybox udhcpc sends it: Ethernet to ff:ff:ff:ff:ff:ff, IPv4
    /// 0.0.0.0 -> 255.255.255.255 (or, renewing, from ciaddr to the server), UDP 68 -> 67, with
    /// client identifier, maximum message size and parameter request list.
    fn client_frame(
        message_type: MessageType,
        flags: Flags,
        ciaddr: Ipv4Addr,
        requested: Option<Ipv4Addr>,
    ) -> Vec<u8> {
        let unspecified = Ipv4Addr::UNSPECIFIED;
        let mut message =
            Message::new_with_id(XID, ciaddr, unspecified, unspecified, unspecified, &VM_MAC);
        message.set_flags(flags);
        let opts = message.opts_mut();
        opts.insert(DhcpOption::MessageType(message_type));
        opts.insert(DhcpOption::ClientIdentifier([&[1][..], &VM_MAC].concat()));
        opts.insert(DhcpOption::MaxMessageSize(576));
        opts.insert(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::Hostname,
        ]));
        if let Some(ip) = requested {
            opts.insert(DhcpOption::RequestedIpAddress(ip));
            opts.insert(DhcpOption::ServerIdentifier(SERVER));
        }
        let (src, dst) = if ciaddr.is_unspecified() {
            (unspecified, Ipv4Addr::BROADCAST)
        } else {
            (ciaddr, SERVER)
        };
        udp_frame(
            VM_MAC,
            [0xff; 6],
            SocketAddrV4::new(src, CLIENT_PORT),
            SocketAddrV4::new(dst, SERVER_PORT),
            &message.to_vec().unwrap(),
        )
    }

    pub(crate) fn discover() -> Vec<u8> {
        client_frame(
            MessageType::Discover,
            Flags::default(),
            Ipv4Addr::UNSPECIFIED,
            None,
        )
    }

    /// The server's reply to `frame`, checked for everything common to OFFER, ACK and NAK:
    /// fabric MAC to the client's MAC, 168.63.129.16:67 to port 68, valid checksums, BOOTREPLY
    /// with the client's xid and chaddr, and the server identifier. Returns the IPv4 destination
    /// and the DHCP message.
    fn server_reply(frame: &[u8]) -> (Ipv4Addr, Message) {
        let (ethernet, ip, udp, payload) = checked_udp(&reply(frame, &lease()).expect("a reply"));
        assert_eq!(
            (ethernet.source, ethernet.destination),
            (FABRIC_MAC, VM_MAC)
        );
        assert_eq!(
            (
                Ipv4Addr::from(ip.source),
                udp.source_port,
                udp.destination_port
            ),
            (SERVER, 67, 68)
        );
        assert!(payload.len() >= MIN_MESSAGE_LEN);
        let message = Message::from_bytes(&payload).unwrap();
        assert_eq!(
            (message.opcode(), message.xid(), message.chaddr()),
            (Opcode::BootReply, XID, &VM_MAC[..])
        );
        assert_eq!(
            message.opts().get(OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(SERVER))
        );
        (ip.destination.into(), message)
    }

    /// Asserts that `message` hands out the lease: yiaddr 10.1.0.4, a /24 mask, router 10.1.0.1,
    /// DNS 168.63.129.16, lease times and host name.
    fn assert_hands_out_lease(message: &Message, message_type: MessageType) {
        assert_eq!(message.opts().msg_type(), Some(message_type));
        assert_eq!(message.yiaddr(), Ipv4Addr::new(10, 1, 0, 4));
        let expected = [
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            DhcpOption::Router(vec![Ipv4Addr::new(10, 1, 0, 1)]),
            DhcpOption::DomainNameServer(vec![SERVER]),
            DhcpOption::AddressLeaseTime(86_400),
            DhcpOption::Renewal(43_200),
            DhcpOption::Rebinding(75_600),
            DhcpOption::Hostname("vm1".into()),
        ];
        for option in expected {
            assert_eq!(message.opts().get(OptionCode::from(&option)), Some(&option));
        }
    }

    #[test]
    fn discover_gets_an_offer_of_the_nic_address_unicast_to_it() {
        let (destination, offer) = server_reply(&discover());
        assert_hands_out_lease(&offer, MessageType::Offer);
        assert_eq!(destination, Ipv4Addr::new(10, 1, 0, 4));
    }

    #[test]
    fn request_for_the_nic_address_gets_an_ack_broadcast_if_the_client_asks() {
        let requested = Some(Ipv4Addr::new(10, 1, 0, 4));
        let broadcast = Flags::default().set_broadcast();
        let (destination, ack) = server_reply(&client_frame(
            MessageType::Request,
            broadcast,
            Ipv4Addr::UNSPECIFIED,
            requested,
        ));
        assert_hands_out_lease(&ack, MessageType::Ack);
        assert_eq!(destination, Ipv4Addr::BROADCAST);
    }

    #[test]
    fn renewal_request_by_ciaddr_gets_an_ack_unicast() {
        let renewing = Ipv4Addr::new(10, 1, 0, 4);
        let (destination, ack) = server_reply(&client_frame(
            MessageType::Request,
            Flags::default(),
            renewing,
            None,
        ));
        assert_hands_out_lease(&ack, MessageType::Ack);
        assert_eq!(destination, renewing);
    }

    #[test]
    fn request_for_another_address_gets_a_broadcast_nak_without_lease_options() {
        let requested = Some(Ipv4Addr::new(10, 1, 0, 9));
        let (destination, nak) = server_reply(&client_frame(
            MessageType::Request,
            Flags::default(),
            Ipv4Addr::UNSPECIFIED,
            requested,
        ));
        assert_eq!(nak.opts().msg_type(), Some(MessageType::Nak));
        assert_eq!(
            (nak.yiaddr(), destination),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
        );
        assert_eq!(
            nak.opts().len(),
            2,
            "message type and server identifier only: {:?}",
            nak.opts()
        );
    }

    #[test]
    fn release_decline_inform_and_non_dhcp_frames_get_no_reply() {
        let ip = Some(Ipv4Addr::new(10, 1, 0, 4));
        for message_type in [
            MessageType::Release,
            MessageType::Decline,
            MessageType::Inform,
        ] {
            let frame = client_frame(message_type, Flags::default(), Ipv4Addr::UNSPECIFIED, ip);
            assert_eq!(reply(&frame, &lease()), None, "{message_type:?}");
        }
        let to_dns = udp_frame(
            VM_MAC,
            FABRIC_MAC,
            SocketAddrV4::new(Ipv4Addr::new(10, 1, 0, 4), CLIENT_PORT),
            SocketAddrV4::new(SERVER, 53),
            &discover()[42..],
        );
        assert_eq!(reply(&to_dns, &lease()), None);
    }

    #[test]
    fn truncated_mutated_and_random_frames_do_not_panic() {
        let lease = lease();
        fuzz(&discover(), |frame| {
            reply(frame, &lease);
        });
    }
}
