//! Every typed id of nsgsim, in one place: indices into a [`Topology`](crate::model::Topology)'s
//! tables and into the JIT engine's requests and grants. An id is only meaningful for the
//! topology or engine that issued it; a newtype per table keeps a subnet's index from being
//! used as a NIC's. The modules that own each table re-export their ids where they have always
//! been named.

use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index into the table that issued it.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}", stringify!($name), self.0)
            }
        }
    )*};
}

id_type!(
    /// A virtual network.
    VnetId,
    /// A subnet.
    SubnetId,
    /// A network interface.
    NicId,
    /// A virtual machine.
    VmId,
    /// A public IP address resource.
    PublicIpId,
    /// A network security group.
    NsgId,
    /// An application security group.
    AsgId,
    /// Identifies a route table.
    RouteTableId,
    /// Identifies an Azure Firewall.
    FirewallId,
    /// Identifies an Azure Bastion host.
    BastionId,
    /// Identifies a load balancer.
    LoadBalancerId,
    /// Identifies a NAT gateway.
    NatGatewayId,
    /// Identifies a public IP prefix.
    PublicIpPrefixId,
    /// Identifies a network group.
    NetworkGroupId,
    /// Identifies a security admin configuration.
    AdminConfigId,
);

// The JIT engine's ids (`crate::jit` re-exports them).
id_type!(
    /// Identifies a request within one engine.
    RequestId,
    /// Identifies a grant (one port of one VM for one request) within one engine.
    GrantId,
);
