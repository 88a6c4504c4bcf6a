//! Typed indices into the topology's resource arrays, so a subnet can never be used where a
//! VNet is meant.

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

id_type!(
    VnetId,
    SubnetId,
    PeeringId,
    NicId,
    VmId,
    RouteTableId,
    NsgId,
    AsgId,
    PublicIpId,
    GatewayId,
    LocalGatewayId,
    ConnectionId,
    NatGatewayId,
    LoadBalancerId,
);
