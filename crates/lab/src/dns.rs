//! Azure-provided name resolution at 168.63.129.16: the VNet's VMs by host name, bare or under
//! the `internal.cloudapp.net` suffix, case-insensitive (docs/semantics/dataplane.md 4.3 and 4.6).

use std::net::Ipv4Addr;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// The suffix Azure puts after VM host names.
const SUFFIX: &str = ".internal.cloudapp.net";

/// TTL of the A records: short, as VMs of a lab come and go.
const TTL: u32 = 10;

/// Answers a DNS query (the UDP payload sent to 168.63.129.16:53). `lookup` maps a lower-case
/// bare VM name to its address. Returns the response payload (same id, QR set, RA set, RD echoed,
/// the question echoed, an OPT record if the query had one): the A record for a VM's name,
/// NXDOMAIN for an unknown name, and an empty NOERROR answer for other types or classes of a
/// VM's name. `None` if the payload is not a well-formed standard query with one question (then
/// the switch drops it).
pub fn answer(query: &[u8], lookup: impl Fn(&str) -> Option<Ipv4Addr>) -> Option<Vec<u8>> {
    let query = Message::from_vec(query).ok()?;
    let [question] = query.queries.as_slice() else {
        return None;
    };
    if query.metadata.message_type != MessageType::Query || query.metadata.op_code != OpCode::Query
    {
        return None;
    }
    let mut response = Message::response(query.metadata.id, OpCode::Query);
    response.metadata = Metadata::response_from_request(&query.metadata);
    response.metadata.recursion_available = true;
    response.add_query(question.clone());
    response.edns = query.edns.as_ref().map(|_| Edns::new());
    match vm_name(question.name()).and_then(|name| lookup(&name)) {
        None => response.metadata.response_code = ResponseCode::NXDomain,
        Some(ip)
            if (question.query_type(), question.query_class()) == (RecordType::A, DNSClass::IN) =>
        {
            response.add_answer(Record::from_rdata(
                question.name().clone(),
                TTL,
                RData::A(A(ip)),
            ));
        }
        Some(_) => {}
    }
    response.to_vec().ok()
}

/// The lower-case bare VM name `name` asks for: its only label, or the label before
/// `.internal.cloudapp.net`.
fn vm_name(name: &Name) -> Option<String> {
    let name = name.to_ascii().to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    let bare = name.strip_suffix(SUFFIX).unwrap_or(name);
    (!bare.is_empty() && !bare.contains('.')).then(|| bare.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    const VM1: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 4);

    fn lookup(name: &str) -> Option<Ipv4Addr> {
        (name == "vm1").then_some(VM1)
    }

    /// A query as glibc's stub resolver sends it: id 0x4242, RD set, one question, EDNS.
    fn query(name: &str, record_type: RecordType) -> Message {
        let mut message = Message::new(0x4242, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
        message.edns = Some(Edns::new());
        message
    }

    /// The response to the query for `name`, checked for the header and question every answer
    /// carries.
    fn response(name: &str, record_type: RecordType) -> Message {
        // Decoded, as the name on the wire is fully qualified.
        let query = Message::from_vec(&query(name, record_type).to_vec().unwrap()).unwrap();
        let payload = answer(&query.to_vec().unwrap(), lookup).expect("an answer");
        let response = Message::from_vec(&payload).unwrap();
        let metadata = &response.metadata;
        assert_eq!(
            (metadata.id, metadata.message_type),
            (0x4242, MessageType::Response)
        );
        assert!(metadata.recursion_available && metadata.recursion_desired);
        assert_eq!(response.queries, query.queries);
        assert!(response.edns.is_some());
        response
    }

    #[test]
    fn vm_name_bare_or_with_the_azure_suffix_in_any_case_gets_its_a_record() {
        for name in [
            "vm1",
            "vm1.",
            "VM1.internal.cloudapp.net",
            "vm1.Internal.CloudApp.net.",
        ] {
            let response = response(name, RecordType::A);
            assert_eq!(
                response.metadata.response_code,
                ResponseCode::NoError,
                "{name}"
            );
            let [record] = response.answers.as_slice() else {
                panic!("{name}: {:?}", response.answers)
            };
            assert_eq!(record.data, RData::A(A(VM1)), "{name}");
            assert_eq!(&record.name, response.queries[0].name(), "{name}");
        }
    }

    #[test]
    fn unknown_names_get_nxdomain() {
        for name in [
            "nope",
            "nope.internal.cloudapp.net",
            "vm1.example.com",
            "internal.cloudapp.net",
        ] {
            let response = response(name, RecordType::A);
            assert_eq!(
                response.metadata.response_code,
                ResponseCode::NXDomain,
                "{name}"
            );
            assert!(response.answers.is_empty(), "{name}");
        }
    }

    #[test]
    fn other_types_for_a_vm_name_get_an_empty_noerror_answer() {
        for record_type in [RecordType::AAAA, RecordType::MX, RecordType::TXT] {
            let response = response("vm1", record_type);
            assert_eq!(
                response.metadata.response_code,
                ResponseCode::NoError,
                "{record_type}"
            );
            assert!(response.answers.is_empty(), "{record_type}");
        }
    }

    #[test]
    fn responses_and_non_query_opcodes_are_dropped() {
        let mut message = query("vm1", RecordType::A);
        message.metadata.message_type = MessageType::Response;
        assert_eq!(answer(&message.to_vec().unwrap(), lookup), None);
        message.metadata.message_type = MessageType::Query;
        message.metadata.op_code = OpCode::Update;
        assert_eq!(answer(&message.to_vec().unwrap(), lookup), None);
    }

    #[test]
    fn truncated_mutated_and_random_queries_do_not_panic() {
        crate::frame::tests::fuzz(
            &query("vm1.internal.cloudapp.net", RecordType::A)
                .to_vec()
                .unwrap(),
            |payload| {
                answer(payload, lookup);
            },
        );
    }
}
