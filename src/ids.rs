//! Typed indices into a [`Topology`](crate::model::Topology)'s tables. An id is only meaningful for the topology
//! that issued it.

use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index into the topology's table.
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
);
