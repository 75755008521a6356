//! People in a scenario: who they are, their Azure roles, and where their traffic comes from.

use std::net::IpAddr;

/// A person who sends traffic and requests access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Name (also the JIT `requestor`).
    pub name: String,
    /// Azure role names assigned to the user (e.g. `Owner`, `Reader`).
    pub roles: Vec<String>,
    /// The address their traffic comes from.
    pub source_ip: IpAddr,
}
