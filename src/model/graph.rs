//! The topology as a graph (petgraph): VNets, subnets, NICs, public IPs, firewalls and Bastion
//! hosts as nodes; containment, peering, association and routing as edges.
//!
//! Used to find how VNets connect (a peering path, for explaining non-transitive peering) and to
//! draw the network (Graphviz DOT, and the pictures of reports).

use std::fmt::Write;

use petgraph::algo::astar;
use petgraph::graph::{NodeIndex, UnGraph};

use super::{NextHop, Topology, VnetId};

/// A node of the topology graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphNode {
    /// The Internet.
    Internet,
    /// A VNet (name, address spaces).
    Vnet(String, String),
    /// A subnet (`vnet/subnet`, prefix).
    Subnet(String, String),
    /// A VM's NIC (VM name, private IP).
    Nic(String, String),
    /// A public IP (name, address).
    PublicIp(String, String),
    /// An Azure Firewall (name, private IP).
    Firewall(String, String),
    /// An Azure Bastion host.
    Bastion(String),
    /// An on-premises network behind a gateway.
    OnPremises(String),
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
    /// A gateway connection to on-premises.
    Gateway,
    /// A user-defined route from a subnet to an appliance (the route table and route names).
    Route(String),
}

/// The graph and where each VNet sits in it.
#[derive(Debug)]
pub struct TopologyGraph {
    graph: UnGraph<GraphNode, GraphEdge>,
    vnets: Vec<NodeIndex>,
}

impl TopologyGraph {
    /// Builds the graph of `topology`.
    pub fn new(topology: &Topology) -> TopologyGraph {
        let mut g = UnGraph::new_undirected();
        let internet = g.add_node(GraphNode::Internet);
        let mut vnets = Vec::new();
        for v in topology.vnet_ids() {
            let vnet = topology.vnet(v);
            let spaces: Vec<String> = vnet.address_space.iter().map(|s| s.to_string()).collect();
            vnets.push(g.add_node(GraphNode::Vnet(vnet.name.clone(), spaces.join(", "))));
        }
        for v in topology.vnet_ids() {
            for peer in &topology.vnet(v).peerings {
                if v < *peer {
                    g.add_edge(vnets[v.index()], vnets[peer.index()], GraphEdge::Peering);
                }
            }
            for space in &topology.vnet(v).on_premises {
                let on_prem = g.add_node(GraphNode::OnPremises(space.to_string()));
                g.add_edge(vnets[v.index()], on_prem, GraphEdge::Gateway);
            }
        }
        let mut subnets = Vec::new();
        for s in topology.subnet_ids() {
            let subnet = topology.subnet(s);
            let name = format!("{}/{}", topology.vnet(subnet.vnet).name, subnet.name);
            let node = g.add_node(GraphNode::Subnet(name, subnet.prefix.to_string()));
            g.add_edge(vnets[subnet.vnet.index()], node, GraphEdge::Contains);
            subnets.push(node);
        }
        let public = |g: &mut UnGraph<GraphNode, GraphEdge>, owner: NodeIndex, p: super::PublicIpId| {
            let pip = topology.public_ip(p);
            let node = g.add_node(GraphNode::PublicIp(pip.name.clone(), pip.address.to_string()));
            g.add_edge(owner, node, GraphEdge::Public);
            g.add_edge(node, internet, GraphEdge::Public);
        };
        for n in topology.nic_ids() {
            let nic = topology.nic(n);
            let label = nic.vm.map(|v| topology.vm(v).name.clone()).unwrap_or_else(|| nic.name.clone());
            let node = g.add_node(GraphNode::Nic(label, nic.private_ip.to_string()));
            g.add_edge(subnets[nic.subnet.0 as usize], node, GraphEdge::Contains);
            if let Some(p) = nic.public_ip {
                public(&mut g, node, p);
            }
        }
        let mut firewall_nodes = Vec::new();
        for f in topology.firewall_ids() {
            let fw = topology.firewall(f);
            let node = g.add_node(GraphNode::Firewall(fw.name.clone(), fw.private_ip.to_string()));
            g.add_edge(subnets[fw.subnet.0 as usize], node, GraphEdge::Contains);
            if let Some(p) = fw.public_ip {
                public(&mut g, node, p);
            }
            firewall_nodes.push((fw.private_ip, node));
        }
        for b in topology.bastion_ids() {
            let bastion = topology.bastion(b);
            let node = g.add_node(GraphNode::Bastion(bastion.name.clone()));
            g.add_edge(subnets[bastion.subnet.0 as usize], node, GraphEdge::Contains);
            if let Some(p) = bastion.public_ip {
                public(&mut g, node, p);
            }
        }
        for s in topology.subnet_ids() {
            let Some(rt) = topology.subnet(s).route_table else { continue };
            let table = topology.route_table(rt);
            for route in &table.routes {
                if let NextHop::VirtualAppliance(ip) = route.next_hop
                    && let Some((_, fw)) = firewall_nodes.iter().find(|(a, _)| *a == ip)
                {
                    g.add_edge(
                        subnets[s.0 as usize],
                        *fw,
                        GraphEdge::Route(format!("{}/{} {}", table.name, route.name, route.prefix)),
                    );
                }
            }
        }
        TopologyGraph { graph: g, vnets }
    }

    /// The shortest chain of peerings from `from` to `to` (both included), if any.
    pub fn peering_path(&self, from: VnetId, to: VnetId) -> Option<Vec<String>> {
        let (start, goal) = (self.vnets[from.index()], self.vnets[to.index()]);
        let filtered =
            self.graph.filter_map(|_, n| Some(n.clone()), |_, e| (*e == GraphEdge::Peering).then_some(()));
        let (_, path) = astar(&filtered, start, |n| n == goal, |_| 1, |_| 0)?;
        Some(
            path.into_iter()
                .filter_map(|i| match &self.graph[i] {
                    GraphNode::Vnet(name, _) => Some(name.clone()),
                    _ => None,
                })
                .collect(),
        )
    }

    /// The graph.
    pub fn graph(&self) -> &UnGraph<GraphNode, GraphEdge> {
        &self.graph
    }

    /// Graphviz DOT text of the graph.
    pub fn to_dot(&self) -> String {
        let mut out =
            String::from("graph topology {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
        for i in self.graph.node_indices() {
            let (label, shape) = match &self.graph[i] {
                GraphNode::Internet => ("Internet".to_string(), "doublecircle"),
                GraphNode::Vnet(n, s) => (format!("VNet {n}\\n{s}"), "box3d"),
                GraphNode::Subnet(n, p) => (format!("subnet {n}\\n{p}"), "folder"),
                GraphNode::Nic(n, ip) => (format!("{n}\\n{ip}"), "box"),
                GraphNode::PublicIp(n, a) => (format!("{n}\\n{a}"), "ellipse"),
                GraphNode::Firewall(n, ip) => (format!("Azure Firewall {n}\\n{ip}"), "hexagon"),
                GraphNode::Bastion(n) => (format!("Azure Bastion {n}"), "octagon"),
                GraphNode::OnPremises(s) => (format!("on-premises\\n{s}"), "cylinder"),
            };
            let _ = writeln!(out, "  n{} [label=\"{label}\", shape={shape}];", i.index());
        }
        for e in self.graph.edge_indices() {
            let Some((a, b)) = self.graph.edge_endpoints(e) else { continue };
            let style = match &self.graph[e] {
                GraphEdge::Contains => String::new(),
                GraphEdge::Peering => " [label=\"peering\", style=bold]".into(),
                GraphEdge::Public => " [style=dashed]".into(),
                GraphEdge::Gateway => " [label=\"gateway\", style=dotted]".into(),
                GraphEdge::Route(r) => format!(" [label=\"UDR {r}\", color=red]"),
            };
            let _ = writeln!(out, "  n{} -- n{}{style};", a.index(), b.index());
        }
        out.push_str("}\n");
        out
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
}
