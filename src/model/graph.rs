//! The topology as a graph (petgraph): the Internet, VNets, subnets, NICs, public IPs, firewalls,
//! Bastion hosts and on-premises networks as nodes; containment, peering, gateways, gateway
//! transit, public exposure and user-defined routes as edges.
//!
//! It answers the questions that are about connections rather than rules:
//! - which networks reach which privately ([`PrivateReach`]: peering, not transitive; on-premises
//!   through a VNet's gateway and, with gateway transit, the VNets that use it; under option
//!   `peering_access_blocks_all_traffic`, not over a peering whose side sets
//!   `allowVirtualNetworkAccess: false`), which the path evaluation and the reachability queries
//!   use;
//! - how two VNets connect when they are not peered (a peering path, for explaining
//!   non-transitive peering);
//! - what to draw: Graphviz DOT (`nsgsim graph`) and the topology picture of reports
//!   (`report::topology_svg`), both walk this graph.

use std::collections::HashMap;
use std::fmt::Write;

use petgraph::algo::astar;
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;

use super::{NextHop, PublicIpId, Topology, VnetId};

/// A node of the topology graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphNode {
    /// The Internet.
    Internet,
    /// A VNet.
    Vnet {
        /// Name.
        name: String,
        /// Address spaces, comma separated.
        spaces: String,
    },
    /// A subnet.
    Subnet {
        /// `vnet/subnet`.
        name: String,
        /// Prefix.
        prefix: String,
        /// The associated NSG's name.
        nsg: Option<String>,
        /// The associated route table's name.
        route_table: Option<String>,
        /// Whether default outbound access is off (a private subnet).
        private: bool,
        /// The NAT gateway attached to the subnet and its addresses: `nat-web (20.0.0.1,
        /// 20.0.1.0)`.
        nat_gateway: Option<String>,
    },
    /// A NIC.
    Nic {
        /// The VM's name (the NIC's when it has no VM).
        vm: String,
        /// Private IP.
        ip: String,
        /// The NIC's own NSG.
        nsg: Option<String>,
    },
    /// A public IP.
    PublicIp {
        /// Name.
        name: String,
        /// Address.
        address: String,
        /// `Basic` or `Standard`.
        sku: String,
    },
    /// An Azure Firewall.
    Firewall {
        /// Name.
        name: String,
        /// Private IP (the next hop of UDRs).
        ip: String,
    },
    /// An Azure Bastion host.
    Bastion {
        /// Name.
        name: String,
    },
    /// An Azure Load Balancer.
    LoadBalancer {
        /// Name.
        name: String,
        /// `Basic` or `Standard`.
        sku: String,
        /// Its frontends' addresses.
        frontends: String,
    },
    /// An on-premises network behind a VNet's gateway.
    OnPremises {
        /// Its address space.
        space: String,
    },
    /// A Virtual Network Manager network group (linked to its member VNets by
    /// [`GraphEdge::Member`]).
    NetworkGroup {
        /// Name.
        name: String,
        /// The security admin configurations with a rule collection applied to the group, and
        /// whether each is deployed (only then do its rules apply).
        configurations: Vec<(String, bool)>,
    },
}

impl GraphNode {
    /// What a network group node says about its admin configurations, one entry per
    /// configuration: `admin rules of 'C' (deployed)` or `… (not deployed: no effect)`; `None`
    /// for other nodes.
    pub fn admin_labels(&self) -> Option<Vec<String>> {
        let GraphNode::NetworkGroup { configurations, .. } = self else { return None };
        Some(
            configurations
                .iter()
                .map(|(c, deployed)| {
                    let state = if *deployed { "deployed" } else { "not deployed: no effect" };
                    format!("admin rules of '{c}' ({state})")
                })
                .collect(),
        )
    }
}

/// An edge of the topology graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphEdge {
    /// Containment (VNet–subnet, subnet–NIC, subnet–appliance).
    Contains,
    /// VNet peering.
    Peering,
    /// A public IP associated with a NIC, firewall or Bastion; or a public IP facing the Internet.
    Public,
    /// A VPN/ExpressRoute gateway connection from a VNet to an on-premises network.
    Gateway,
    /// Gateway transit: a VNet uses the gateway of the peered VNet at the other end (the end that
    /// has `Gateway` edges).
    GatewayTransit,
    /// A user-defined route from a subnet to an appliance (the route table and route names, and
    /// the prefix).
    Route(String),
    /// A VNet's membership of a Virtual Network Manager network group.
    Member,
    /// A load balancer to a backend member's NIC (the rules and NAT rules that send to it).
    Backend(String),
}

/// Which networks reach which privately, read off the graph: a VNet reaches itself and the VNets
/// it is peered with (peering is not transitive); the on-premises networks behind a VNet's
/// gateway reach that VNet and the VNets that use its gateway through peering.
///
/// It also keeps the peering graph of the VNets alone (small: one node per VNet), so that the
/// peering path between two VNets is found without walking the whole topology graph, which a
/// flow evaluation cannot afford.
///
/// A peering with `allowVirtualNetworkAccess: false` on a side still connects the two VNets
/// (Microsoft's current documentation: the setting "only changes the definition of the
/// VirtualNetwork service tag"; the NSGs then decide). Only under option
/// `peering_access_blocks_all_traffic` (the older documentation: "traffic doesn't flow between the
/// peered virtual networks") is such a peering left out, both ways, with the gateway transit over
/// it; [`PrivateReach::blocked_by`] then says which side blocks, for the explanation.
#[derive(Clone, Debug, Default)]
pub struct PrivateReach {
    /// Per VNet index: the VNets it reaches privately, sorted.
    vnets: Vec<Vec<VnetId>>,
    /// Per VNet index: the VNets that the on-premises networks behind its gateway reach, sorted.
    on_premises: Vec<Vec<VnetId>>,
    /// The VNets (node weight: the VNet's name) and their peerings that carry traffic; node `i`
    /// is `VnetId(i)`.
    peerings: UnGraph<String, ()>,
    /// Peerings that carry no traffic (option `peering_access_blocks_all_traffic`): the two VNets,
    /// lower id first, and the VNet whose side sets `allowVirtualNetworkAccess: false`.
    blocked: Vec<(VnetId, VnetId, VnetId)>,
}

impl PrivateReach {
    /// When the peering of `a` and `b` carries no traffic (option
    /// `peering_access_blocks_all_traffic`), the VNet whose side blocks it.
    pub fn blocked_by(&self, a: VnetId, b: VnetId) -> Option<VnetId> {
        let key = if a <= b { (a, b) } else { (b, a) };
        self.blocked.iter().find(|(x, y, _)| (*x, *y) == key).map(|(_, _, side)| *side)
    }

    /// Whether a sender in `from` reaches `to` without leaving the private network.
    pub fn vnet_reaches(&self, from: VnetId, to: VnetId) -> bool {
        self.vnets.get(from.index()).is_some_and(|r| r.binary_search(&to).is_ok())
    }

    /// Whether the on-premises networks behind `gateway`'s gateway reach `to` privately.
    pub fn on_premises_reaches(&self, gateway: VnetId, to: VnetId) -> bool {
        self.on_premises.get(gateway.index()).is_some_and(|r| r.binary_search(&to).is_ok())
    }

    /// The VNets a sender in `from` reaches privately.
    pub fn vnets_reached_from(&self, from: VnetId) -> &[VnetId] {
        self.vnets.get(from.index()).map_or(&[], Vec::as_slice)
    }

    /// The names along the shortest chain of peerings from `from` to `to` (both included), if any.
    pub fn peering_path(&self, from: VnetId, to: VnetId) -> Option<Vec<String>> {
        let node = |v: VnetId| NodeIndex::new(v.index());
        if from.index() >= self.peerings.node_count() || to.index() >= self.peerings.node_count() {
            return None;
        }
        let (_, path) = astar(&self.peerings, node(from), |n| n == node(to), |_| 1, |_| 0)?;
        Some(path.into_iter().map(|n| self.peerings[n].clone()).collect())
    }
}

/// The graph and where each VNet sits in it.
#[derive(Debug)]
pub struct TopologyGraph {
    graph: UnGraph<GraphNode, GraphEdge>,
    internet: NodeIndex,
    vnets: Vec<NodeIndex>,
    vnet_of_node: HashMap<NodeIndex, VnetId>,
    /// Peering sides that set `allowVirtualNetworkAccess: false`: (the VNet of that side, the
    /// remote VNet).
    no_access: Vec<(VnetId, VnetId)>,
    /// Option `peering_access_blocks_all_traffic`: such a peering carries no traffic.
    blocks_all_traffic: bool,
    /// Subnet peerings (`peerCompleteVnets: false`): (the lower VNet, the higher) and the label
    /// naming each side's peered subnets.
    subnet_peerings: HashMap<(VnetId, VnetId), String>,
}

impl TopologyGraph {
    /// Builds the graph of `topology`.
    pub fn new(topology: &Topology) -> TopologyGraph {
        let mut g = UnGraph::new_undirected();
        let internet = g.add_node(GraphNode::Internet);
        let mut vnets = Vec::new();
        let mut vnet_of_node = HashMap::new();
        let mut no_access = Vec::new();
        for v in topology.vnet_ids() {
            no_access.extend(topology.vnet(v).peerings_without_access.iter().map(|r| (v, *r)));
        }
        for v in topology.vnet_ids() {
            let vnet = topology.vnet(v);
            let spaces: Vec<String> = vnet.address_space.iter().map(|s| s.to_string()).collect();
            let node = g.add_node(GraphNode::Vnet { name: vnet.name.clone(), spaces: spaces.join(", ") });
            vnets.push(node);
            vnet_of_node.insert(node, v);
        }
        for v in topology.vnet_ids() {
            let vnet = topology.vnet(v);
            for peer in &vnet.peerings {
                if v < *peer {
                    g.add_edge(vnets[v.index()], vnets[peer.index()], GraphEdge::Peering);
                }
            }
            for space in &vnet.on_premises {
                let on_prem = g.add_node(GraphNode::OnPremises { space: space.to_string() });
                g.add_edge(vnets[v.index()], on_prem, GraphEdge::Gateway);
            }
            if let Some(remote) = vnet.remote_gateway {
                g.add_edge(vnets[v.index()], vnets[remote.index()], GraphEdge::GatewayTransit);
            }
        }
        let mut subnet_peerings = HashMap::new();
        for v in topology.vnet_ids() {
            for peer in topology.vnet(v).peerings.iter().filter(|p| v < **p) {
                let names = |x: VnetId, y: VnetId| -> Option<String> {
                    let list: Vec<&str> = topology
                        .peered_subnets(x, y)?
                        .iter()
                        .map(|s| topology.subnet(*s).name.as_str())
                        .collect();
                    Some(format!("{}: {}", topology.vnet(x).name, list.join(", ")))
                };
                if let (Some(a), Some(b)) = (names(v, *peer), names(*peer, v)) {
                    subnet_peerings.insert((v, *peer), format!("subnet peering ({a}; {b})"));
                }
            }
        }
        let mut subnets = Vec::new();
        for s in topology.subnet_ids() {
            let subnet = topology.subnet(s);
            let node = g.add_node(GraphNode::Subnet {
                name: format!("{}/{}", topology.vnet(subnet.vnet).name, subnet.name),
                prefix: subnet.prefix.to_string(),
                nsg: subnet.nsg.map(|n| topology.nsg(n).name.clone()),
                route_table: subnet.route_table.map(|r| topology.route_table(r).name.clone()),
                private: !subnet.default_outbound_access,
                nat_gateway: subnet.nat_gateway.map(|gw| {
                    let addresses: Vec<String> =
                        topology.nat_gateway_addresses(gw).iter().map(ToString::to_string).collect();
                    format!("{} ({})", topology.nat_gateway(gw).name, addresses.join(", "))
                }),
            });
            g.add_edge(vnets[subnet.vnet.index()], node, GraphEdge::Contains);
            subnets.push(node);
        }
        let public = |g: &mut UnGraph<GraphNode, GraphEdge>, owner: NodeIndex, p: PublicIpId| {
            let pip = topology.public_ip(p);
            let node = g.add_node(GraphNode::PublicIp {
                name: pip.name.clone(),
                address: pip.address.to_string(),
                sku: format!("{:?}", pip.sku),
            });
            g.add_edge(owner, node, GraphEdge::Public);
            g.add_edge(node, internet, GraphEdge::Public);
        };
        let mut nic_nodes = Vec::new();
        for n in topology.nic_ids() {
            let nic = topology.nic(n);
            let vm = nic.vm.map(|v| topology.vm(v).name.clone()).unwrap_or_else(|| nic.name.clone());
            let addresses: Vec<String> = topology.nic_addresses(n).map(|a| a.to_string()).collect();
            let node = g.add_node(GraphNode::Nic {
                vm,
                ip: addresses.join(", "),
                nsg: nic.nsg.map(|x| topology.nsg(x).name.clone()),
            });
            g.add_edge(subnets[nic.subnet.index()], node, GraphEdge::Contains);
            nic_nodes.push(node);
            // Every IP configuration's public IP, the primary's first.
            for p in std::iter::once(nic.public_ip).chain(nic.secondary.iter().map(|c| c.public_ip)).flatten()
            {
                public(&mut g, node, p);
            }
        }
        let mut firewall_nodes = Vec::new();
        for f in topology.firewall_ids() {
            let fw = topology.firewall(f);
            let node =
                g.add_node(GraphNode::Firewall { name: fw.name.clone(), ip: fw.private_ip.to_string() });
            g.add_edge(subnets[fw.subnet.index()], node, GraphEdge::Contains);
            if let Some(p) = fw.public_ip {
                public(&mut g, node, p);
            }
            firewall_nodes.push(node);
        }
        for b in topology.bastion_ids() {
            let bastion = topology.bastion(b);
            let node = g.add_node(GraphNode::Bastion { name: bastion.name.clone() });
            g.add_edge(subnets[bastion.subnet.index()], node, GraphEdge::Contains);
            if let Some(p) = bastion.public_ip {
                public(&mut g, node, p);
            }
        }
        for l in topology.load_balancer_ids() {
            load_balancer(topology, &mut g, l, &subnets, &nic_nodes, &public);
        }
        for s in topology.subnet_ids() {
            let Some(rt) = topology.subnet(s).route_table else { continue };
            let table = topology.route_table(rt);
            for route in &table.routes {
                // The next hop is looked up where the subnet's routes send it: its VNet or a peered
                // one, never a firewall of another routing domain that has the same address.
                let vnet = topology.subnet(s).vnet;
                if let NextHop::VirtualAppliance(ip) = route.next_hop
                    && let Some(fw) =
                        topology.vnet_seen_from(vnet, ip).and_then(|v| topology.firewall_in_vnet(v, ip))
                {
                    g.add_edge(
                        subnets[s.index()],
                        firewall_nodes[fw.0 as usize],
                        GraphEdge::Route(format!("{}/{} {}", table.name, route.name, route.prefix)),
                    );
                }
            }
        }
        for id in topology.network_group_ids() {
            let group = topology.network_group(id);
            let configurations = topology
                .admin_configuration_ids()
                .map(|c| topology.admin_configuration(c))
                .filter(|c| c.collections.iter().any(|k| k.applies_to.contains(&id)))
                .map(|c| (c.name.clone(), c.deployed))
                .collect();
            let node = g.add_node(GraphNode::NetworkGroup { name: group.name.clone(), configurations });
            for vnet in &group.members {
                g.add_edge(node, vnets[vnet.index()], GraphEdge::Member);
            }
        }
        TopologyGraph {
            graph: g,
            internet,
            vnets,
            vnet_of_node,
            no_access,
            blocks_all_traffic: topology.peering_access_blocks_all_traffic(),
            subnet_peerings,
        }
    }

    /// The VNet (`a` first) whose side of the peering of `a` and `b` sets
    /// `allowVirtualNetworkAccess: false`, if any.
    fn no_access_side(&self, a: VnetId, b: VnetId) -> Option<VnetId> {
        [(a, b), (b, a)].into_iter().find(|side| self.no_access.contains(side)).map(|(x, _)| x)
    }

    /// Whether the peering of `a` and `b` carries no traffic (option
    /// `peering_access_blocks_all_traffic` and a side without access), and which side blocks it.
    fn blocked_side(&self, a: VnetId, b: VnetId) -> Option<VnetId> {
        if self.blocks_all_traffic { self.no_access_side(a, b) } else { None }
    }

    /// The VNets at the other end of `node`'s edges of kind `kind`.
    fn vnet_neighbours(&self, node: NodeIndex, kind: &GraphEdge) -> impl Iterator<Item = VnetId> + '_ {
        let kind = kind.clone();
        self.graph.edges(node).filter(move |e| *e.weight() == kind).filter_map(move |e| {
            let other = if e.source() == node { e.target() } else { e.source() };
            self.vnet_of_node.get(&other).copied()
        })
    }

    fn has_gateway(&self, vnet: NodeIndex) -> bool {
        self.graph.edges(vnet).any(|e| *e.weight() == GraphEdge::Gateway)
    }

    /// Which networks reach which privately (see [`PrivateReach`]).
    pub fn private_reach(&self) -> PrivateReach {
        let mut vnets = Vec::with_capacity(self.vnets.len());
        let mut on_premises = Vec::with_capacity(self.vnets.len());
        let mut peerings = UnGraph::new_undirected();
        for &node in &self.vnets {
            if let GraphNode::Vnet { name, .. } = &self.graph[node] {
                peerings.add_node(name.clone());
            }
        }
        let mut blocked = Vec::new();
        for (a, b) in self.vnet_links(&GraphEdge::Peering) {
            let (a, b) = (self.vnet_of_node[&a], self.vnet_of_node[&b]);
            match self.blocked_side(a, b) {
                Some(side) => blocked.push((a.min(b), a.max(b), side)),
                None => {
                    peerings.add_edge(NodeIndex::new(a.index()), NodeIndex::new(b.index()), ());
                }
            }
        }
        for (i, &node) in self.vnets.iter().enumerate() {
            let me = VnetId(i as u32);
            let mut reached: Vec<VnetId> = self
                .vnet_neighbours(node, &GraphEdge::Peering)
                .filter(|peer| self.blocked_side(me, *peer).is_none())
                .collect();
            reached.push(me);
            reached.sort_unstable();
            reached.dedup();
            vnets.push(reached);
            // The on-premises networks behind this VNet's gateway reach it, and the VNets at the
            // other end of its gateway-transit edges (which use this gateway: they have none).
            let mut from_gateway = Vec::new();
            if self.has_gateway(node) {
                from_gateway.push(me);
                // Gateway transit crosses the peering: a peering that carries no traffic
                // carries none to the gateway either (model choice, docs/fidelity.md).
                from_gateway.extend(
                    self.vnet_neighbours(node, &GraphEdge::GatewayTransit)
                        .filter(|v| !self.has_gateway(self.vnets[v.index()]))
                        .filter(|v| self.blocked_side(me, *v).is_none()),
                );
                from_gateway.sort_unstable();
                from_gateway.dedup();
            }
            on_premises.push(from_gateway);
        }
        blocked.sort_unstable();
        PrivateReach { vnets, on_premises, peerings, blocked }
    }

    /// The shortest chain of peerings from `from` to `to` (both included), if any. (For many
    /// questions, keep the [`PrivateReach`] and ask it.)
    pub fn peering_path(&self, from: VnetId, to: VnetId) -> Option<Vec<String>> {
        self.private_reach().peering_path(from, to)
    }

    /// The graph.
    pub fn graph(&self) -> &UnGraph<GraphNode, GraphEdge> {
        &self.graph
    }

    /// The Internet's node.
    pub fn internet(&self) -> NodeIndex {
        self.internet
    }

    /// The VNets' nodes, in the topology's order.
    pub fn vnet_nodes(&self) -> &[NodeIndex] {
        &self.vnets
    }

    /// The nodes joined to `node` by edges of kind `kind`, in the order they were added.
    pub fn neighbours(&self, node: NodeIndex, kind: &GraphEdge) -> Vec<NodeIndex> {
        let mut out: Vec<NodeIndex> = self
            .graph
            .edges(node)
            .filter(|e| e.weight() == kind)
            .map(|e| if e.source() == node { e.target() } else { e.source() })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The nodes contained in `node` (a VNet's subnets, a subnet's NICs and appliances), in the
    /// order they were added. Containment edges run from the container (added first) to its parts.
    pub fn parts(&self, node: NodeIndex) -> Vec<NodeIndex> {
        self.neighbours(node, &GraphEdge::Contains).into_iter().filter(|n| *n > node).collect()
    }

    /// The public IP nodes of `node` (a NIC, firewall or Bastion host).
    pub fn public_ips(&self, node: NodeIndex) -> Vec<NodeIndex> {
        if matches!(self.graph[node], GraphNode::PublicIp { .. } | GraphNode::Internet) {
            return Vec::new();
        }
        self.neighbours(node, &GraphEdge::Public)
    }

    /// Every load balancer's edge to a backend member: (load balancer node, NIC node, the rules).
    pub fn backends(&self) -> Vec<(NodeIndex, NodeIndex, &str)> {
        self.graph
            .edge_references()
            .filter_map(|e| match e.weight() {
                GraphEdge::Backend(label) => Some((e.source(), e.target(), label.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Every route edge: (subnet node, firewall node, label).
    pub fn routes(&self) -> Vec<(NodeIndex, NodeIndex, &str)> {
        self.graph
            .edge_references()
            .filter_map(|e| match e.weight() {
                GraphEdge::Route(label) => Some((e.source(), e.target(), label.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Every edge of kind `kind` between two VNets: (one, other).
    pub fn vnet_links(&self, kind: &GraphEdge) -> Vec<(NodeIndex, NodeIndex)> {
        self.graph
            .edge_references()
            .filter(|e| e.weight() == kind)
            .filter(|e| {
                self.vnet_of_node.contains_key(&e.source()) && self.vnet_of_node.contains_key(&e.target())
            })
            .map(|e| (e.source(), e.target()))
            .collect()
    }

    /// How a peering between the VNet nodes `a` and `b` is labelled in pictures, and whether it
    /// carries traffic: "peering" or "subnet peering (…)", and which side sets
    /// `allowVirtualNetworkAccess: false` (and,
    /// under option `peering_access_blocks_all_traffic`, that nothing crosses it).
    pub fn peering_label(&self, a: NodeIndex, b: NodeIndex) -> (String, bool) {
        let side = match (self.vnet_of_node.get(&a), self.vnet_of_node.get(&b)) {
            (Some(x), Some(y)) => self.no_access_side(*x, *y),
            _ => None,
        };
        let name = side.and_then(|v| match &self.graph[self.vnets[v.index()]] {
            GraphNode::Vnet { name, .. } => Some(name.as_str()),
            _ => None,
        });
        let kind = match (self.vnet_of_node.get(&a), self.vnet_of_node.get(&b)) {
            (Some(x), Some(y)) => self.subnet_peerings.get(&(*x.min(y), *x.max(y))).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "peering".to_string());
        match name {
            Some(name) if self.blocks_all_traffic => {
                (format!("{kind}, no traffic (allowVirtualNetworkAccess false on {name}'s side)"), false)
            }
            Some(name) => (format!("{kind} (allowVirtualNetworkAccess false on {name}'s side)"), true),
            None => (kind, true),
        }
    }

    /// Graphviz DOT text of the graph.
    pub fn to_dot(&self) -> String {
        let mut out =
            String::from("graph topology {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
        for i in self.graph.node_indices() {
            let (label, shape) = match &self.graph[i] {
                GraphNode::Internet => ("Internet".to_string(), "doublecircle"),
                GraphNode::Vnet { name, spaces } => (format!("VNet {name}\\n{spaces}"), "box3d"),
                GraphNode::Subnet { name, prefix, nsg, route_table, private, nat_gateway } => {
                    let mut label = format!("subnet {name}\\n{prefix}");
                    if let Some(nsg) = nsg {
                        let _ = write!(label, "\\nNSG {nsg}");
                    }
                    if let Some(rt) = route_table {
                        let _ = write!(label, "\\nroutes {rt}");
                    }
                    if *private {
                        label.push_str("\\nprivate (no default outbound access)");
                    }
                    if let Some(gw) = nat_gateway {
                        let _ = write!(label, "\\nNAT gateway {gw}");
                    }
                    (label, "folder")
                }
                GraphNode::Nic { vm, ip, nsg } => {
                    let nsg = nsg.as_ref().map(|n| format!("\\nNIC NSG {n}")).unwrap_or_default();
                    (format!("{vm}\\n{ip}{nsg}"), "box")
                }
                GraphNode::PublicIp { name, address, sku } => {
                    (format!("{name}\\n{address} ({sku})"), "ellipse")
                }
                GraphNode::Firewall { name, ip } => (format!("Azure Firewall {name}\\n{ip}"), "hexagon"),
                GraphNode::Bastion { name } => (format!("Azure Bastion {name}"), "octagon"),
                GraphNode::LoadBalancer { name, sku, frontends } => {
                    (format!("Azure Load Balancer {name} ({sku})\\n{frontends}"), "trapezium")
                }
                GraphNode::OnPremises { space } => (format!("on-premises\\n{space}"), "cylinder"),
                node @ GraphNode::NetworkGroup { name, .. } => {
                    let mut label = format!("network group {name}");
                    for line in node.admin_labels().unwrap_or_default() {
                        let _ = write!(label, "\\n{line}");
                    }
                    (label, "tab")
                }
            };
            let _ =
                writeln!(out, "  n{} [label=\"{}\", shape={shape}];", i.index(), label.replace('"', "\\\""));
        }
        for e in self.graph.edge_indices() {
            let Some((a, b)) = self.graph.edge_endpoints(e) else { continue };
            let style = match &self.graph[e] {
                GraphEdge::Contains => String::new(),
                GraphEdge::Peering => {
                    let (label, carries_traffic) = self.peering_label(a, b);
                    let style = if carries_traffic { "bold" } else { "dashed" };
                    format!(" [label=\"{}\", style={style}]", label.replace('"', "\\\""))
                }
                GraphEdge::Public => " [style=dashed]".into(),
                GraphEdge::Gateway => " [label=\"gateway\", style=dotted]".into(),
                GraphEdge::GatewayTransit => " [label=\"uses remote gateway\", style=dotted]".into(),
                GraphEdge::Route(r) => format!(" [label=\"UDR {r}\", color=red]"),
                GraphEdge::Member => " [label=\"member\", style=dashed, color=purple]".into(),
                GraphEdge::Backend(r) => format!(" [label=\"{}\", color=blue]", r.replace('"', "\\\"")),
            };
            let _ = writeln!(out, "  n{} -- n{}{style};", a.index(), b.index());
        }
        out.push_str("}\n");
        out
    }
}

/// Adds load balancer `l`: its node (in the subnet of an internal frontend, else of its first
/// member, so the drawing places it beside what it serves), its public frontends' public IPs, and
/// an edge to each member's NIC labelled with the rules and NAT rules that send to it and the
/// outbound rules that translate its traffic to the Internet.
fn load_balancer(
    topology: &Topology,
    g: &mut UnGraph<GraphNode, GraphEdge>,
    l: super::LoadBalancerId,
    subnets: &[NodeIndex],
    nic_nodes: &[NodeIndex],
    public: &impl Fn(&mut UnGraph<GraphNode, GraphEdge>, NodeIndex, PublicIpId),
) {
    let lb = topology.load_balancer(l);
    let frontends: Vec<String> =
        (0..lb.frontends.len()).map(|f| topology.frontend_address(l, f).to_string()).collect();
    let node = g.add_node(GraphNode::LoadBalancer {
        name: lb.name.clone(),
        sku: lb.sku.to_string(),
        frontends: frontends.join(", "),
    });
    // Each member's NIC, with the rules that reach it, in the order the load balancer lists them.
    let mut members: Vec<(super::NicId, Vec<String>)> = Vec::new();
    let mut add = |nic: super::NicId, rule: String| match members.iter_mut().find(|(n, _)| *n == nic) {
        Some((_, rules)) => {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        None => members.push((nic, vec![rule])),
    };
    for r in &lb.rules {
        for m in lb.pools.get(r.pool).map(|p| p.members.as_slice()).unwrap_or_default() {
            add(m.nic, format!("rule {}", r.name));
        }
    }
    for n in &lb.nat_rules {
        for (_, m) in lb.nat_members(n) {
            add(m.nic, format!("NAT rule {}", n.name));
        }
    }
    for o in &lb.outbound_rules {
        for m in lb.pools.get(o.pool).map(|p| p.members.as_slice()).unwrap_or_default() {
            add(m.nic, format!("outbound rule {}", o.name));
        }
    }
    let home = lb
        .frontends
        .iter()
        .find_map(|f| match f.address {
            super::FrontendAddress::Private { subnet, .. } => Some(subnet),
            super::FrontendAddress::Public(_) => None,
        })
        .or_else(|| lb.pools.iter().flat_map(|p| &p.members).next().map(|m| topology.nic(m.nic).subnet));
    if let Some(subnet) = home {
        g.add_edge(subnets[subnet.index()], node, GraphEdge::Contains);
    }
    for f in &lb.frontends {
        if let super::FrontendAddress::Public(p) = f.address {
            public(g, node, p);
        }
    }
    for (nic, rules) in members {
        g.add_edge(node, nic_nodes[nic.index()], GraphEdge::Backend(rules.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_peering_chains_through_a_hub() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let a = t.add_vnet("a", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        let b = t.add_vnet("b", vec!["10.2.0.0/16".parse().expect("net")]).expect("vnet");
        let lonely = t.add_vnet("lonely", vec!["10.3.0.0/16".parse().expect("net")]).expect("vnet");
        t.peer(hub, a).expect("peer");
        t.peer(hub, b).expect("peer");
        let g = TopologyGraph::new(&t);
        assert_eq!(g.peering_path(a, b), Some(vec!["a".into(), "hub".into(), "b".into()]));
        assert_eq!(g.peering_path(a, lonely), None);
        assert!(g.to_dot().contains("peering"));
    }

    /// A hub with an on-premises gateway, peered with spokes `a` (which uses the hub's gateway)
    /// and `b` (which does not).
    fn hub_with_gateway_and_two_spokes() -> (Topology, VnetId, VnetId, VnetId) {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let a = t.add_vnet("a", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        let b = t.add_vnet("b", vec!["10.2.0.0/16".parse().expect("net")]).expect("vnet");
        t.connect_on_premises(hub, vec!["192.168.0.0/16".parse().expect("net")]).expect("gateway");
        t.peer(hub, a).expect("peer");
        t.peer(hub, b).expect("peer");
        t.use_remote_gateway(a, hub).expect("a uses the hub's gateway");
        (t, hub, a, b)
    }

    #[test]
    fn private_reach_is_not_transitive_and_gateway_transit_needs_the_flags() {
        let (t, hub, a, b) = hub_with_gateway_and_two_spokes();
        let reach = TopologyGraph::new(&t).private_reach();
        assert!(reach.vnet_reaches(a, hub) && reach.vnet_reaches(hub, b) && reach.vnet_reaches(a, a));
        assert!(!reach.vnet_reaches(a, b), "peering is not transitive");
        assert!(reach.on_premises_reaches(hub, hub));
        assert!(reach.on_premises_reaches(hub, a), "a uses the hub's gateway");
        assert!(!reach.on_premises_reaches(hub, b), "b is peered but does not use the gateway");
        assert!(!reach.on_premises_reaches(a, a), "a has no gateway of its own");
        assert!(TopologyGraph::new(&t).to_dot().contains("uses remote gateway"));
    }

    /// Microsoft's current documentation: `allowVirtualNetworkAccess: false` leaves the peering
    /// connected (only the tag changes). Option `peering_access_blocks_all_traffic` (the older
    /// documentation) takes the peering out both ways, with the gateway transit over it.
    #[test]
    fn a_peering_without_access_connects_unless_the_legacy_option_blocks_it() {
        let (mut t, hub, a, b) = hub_with_gateway_and_two_spokes();
        t.set_peering_access(a, hub, false).expect("a's side");
        let reach = TopologyGraph::new(&t).private_reach();
        assert!(reach.vnet_reaches(a, hub) && reach.vnet_reaches(hub, a), "still connected");
        assert!(reach.on_premises_reaches(hub, a));
        assert_eq!(reach.blocked_by(a, hub), None);
        assert!(
            TopologyGraph::new(&t).to_dot().contains("peering (allowVirtualNetworkAccess false on a's side)")
        );
        t.set_peering_access_blocks_all_traffic(true);
        let g = TopologyGraph::new(&t);
        let reach = g.private_reach();
        assert!(!reach.vnet_reaches(a, hub) && !reach.vnet_reaches(hub, a), "no traffic either way");
        assert!(!reach.on_premises_reaches(hub, a), "nor through the hub's gateway");
        assert_eq!((reach.blocked_by(a, hub), reach.blocked_by(hub, a)), (Some(a), Some(a)));
        assert_eq!(reach.blocked_by(hub, b), None);
        assert!(reach.vnet_reaches(hub, b), "the other peering is untouched");
        assert_eq!(reach.peering_path(a, b), None, "a blocked peering connects nothing");
        assert!(g.to_dot().contains("peering, no traffic (allowVirtualNetworkAccess false on a's side)"));
    }

    #[test]
    fn remote_gateways_are_refused_as_azure_refuses_them() {
        use super::super::PeeringProblem;
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let a = t.add_vnet("a", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        let problem = |r: Result<(), super::super::TopologyError>| {
            r.expect_err("refused").requirement_problem().cloned().expect("a requirement")
        };
        let remote = || "hub".to_string();
        let not_peered = PeeringProblem::NotPeered { remote: remote() };
        assert_eq!(problem(t.use_remote_gateway(a, hub)), not_peered.into());
        t.peer(hub, a).expect("peer");
        let none = PeeringProblem::RemoteHasNoGateway { remote: remote() };
        assert_eq!(problem(t.use_remote_gateway(a, hub)), none.into());
        t.connect_on_premises(hub, vec!["192.168.0.0/16".parse().expect("net")]).expect("gateway");
        t.connect_on_premises(a, vec!["172.16.0.0/16".parse().expect("net")]).expect("gateway");
        let err = t.use_remote_gateway(a, hub).expect_err("own gateway");
        assert_eq!(err.requirement_problem(), Some(&PeeringProblem::HasOwnGateway.into()), "{err}");
        assert_eq!(
            err.to_string(),
            "vnet 'a': has a gateway of its own (on_premises); a VNet with a gateway cannot use remote gateways"
        );
    }

    #[test]
    fn the_graph_holds_what_the_drawing_needs() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let s = t.add_subnet(hub, "app", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        let vm = t.add_vm("vm1", super::super::Os::Linux, false, ("s", "rg")).expect("vm");
        let nic = t.add_nic("vm1-nic", s, "10.0.1.4".parse().expect("ip"), Some(vm)).expect("nic");
        let p = t
            .add_public_ip("vm1-pip", "20.1.2.3".parse().expect("ip"), super::super::PublicIpSku::Standard)
            .expect("pip");
        t.associate_public_ip(nic, p).expect("associate");
        let g = TopologyGraph::new(&t);
        let vnet = g.vnet_nodes()[0];
        let subnets = g.parts(vnet);
        assert_eq!(subnets.len(), 1);
        let nics = g.parts(subnets[0]);
        assert!(matches!(&g.graph()[nics[0]], GraphNode::Nic { vm, .. } if vm == "vm1"));
        let pips = g.public_ips(nics[0]);
        assert!(matches!(&g.graph()[pips[0]], GraphNode::PublicIp { address, .. } if address == "20.1.2.3"));
        assert_eq!(g.neighbours(pips[0], &GraphEdge::Public), vec![g.internet(), nics[0]]);
    }
}
