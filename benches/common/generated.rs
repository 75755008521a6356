//! The generated hub-and-spoke scenario that the `reach` and `serve` benches measure (and that
//! `NSGSIM_WRITE_SCENARIO=FILE cargo bench --bench reach` writes for timing the CLI), shared so
//! that every figure is of the same input.

/// A hub (Azure Firewall, Bastion, a VPN gateway shared with every spoke through gateway transit)
/// and spokes of ten /24 subnets of 100 VMs each; every subnet has an NSG with typical rules, the
/// tenth subnet of each spoke sends everything to the firewall, every other VM has a public IP, a
/// DNAT rule publishes one VM. A subscription-wide JIT policy is enabled on every VM at the start
/// (SSH and RDP), and the timeline holds 40 JIT requests five minutes apart.
pub fn scenario_text(vms: usize) -> String {
    use std::fmt::Write;
    let subnets = vms.div_ceil(100);
    let spokes = subnets.div_ceil(10);
    let mut o = String::new();
    o.push_str("Scenario(name: \"generated\", description: \"benches/reach.rs\", start: \"2025-06-02T10:00:00Z\",\n  vnets: [\n");
    o.push_str("    Vnet(name: \"hub\", address_space: [\"10.200.0.0/16\"], on_premises: [\"192.168.0.0/16\"], subnets: [Subnet(name: \"AzureFirewallSubnet\", prefix: \"10.200.1.0/26\"), Subnet(name: \"AzureBastionSubnet\", prefix: \"10.200.2.0/26\")]),\n");
    for v in 0..spokes {
        let list: Vec<String> = (0..10)
            .map(|s| v * 10 + s)
            .filter(|k| *k < subnets)
            .map(|k| {
                let s = k % 10;
                let rt = if s == 9 { ", route_table: \"via-fw\"" } else { "" };
                format!("Subnet(name: \"s{s}\", prefix: \"10.{v}.{s}.0/24\", nsg: \"nsg{k}\"{rt})")
            })
            .collect();
        let _ = writeln!(
            o,
            "    Vnet(name: \"v{v}\", address_space: [\"10.{v}.0.0/16\"], subnets: [{}]),",
            list.join(", ")
        );
    }
    o.push_str("  ],\n  peerings: [");
    for v in 0..spokes {
        let _ = write!(
            o,
            "Peering(vnets: (\"hub\", \"v{v}\"), allow_gateway_transit: true, use_remote_gateways: true), "
        );
    }
    o.push_str("],\n  route_tables: [RouteTable(name: \"via-fw\", routes: [Route(name: \"d\", prefix: \"0.0.0.0/0\", next_hop: VirtualAppliance(\"10.200.1.4\"))])],\n");
    o.push_str("  public_ips: [PublicIp(name: \"fw-pip\", address: \"20.200.0.1\", sku: Standard), PublicIp(name: \"b-pip\", address: \"20.200.0.2\", sku: Standard), ");
    for i in (0..vms).step_by(2) {
        let _ = write!(
            o,
            "PublicIp(name: \"p{i}\", address: \"52.{}.{}.{}\", sku: Standard), ",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
    }
    o.push_str("],\n  firewalls: [Firewall(name: \"fw\", vnet: \"hub\", private_ip: \"10.200.1.4\", public_ip: \"fw-pip\", collections: [\n");
    o.push_str("    Dnat(name: \"in\", priority: 100, rules: [DnatRule(name: \"ssh\", protocols: [Tcp], sources: [\"203.0.113.0/24\"], destination_port: 50022, translated_address: \"10.0.9.4\", translated_port: 22)]),\n");
    o.push_str("    Network(name: \"n\", priority: 200, action: Allow, rules: [NetworkRule(name: \"web\", protocols: [Tcp], sources: [\"10.0.0.0/8\"], destinations: [\"*\"], destination_ports: [\"443\", \"1433\"])]),\n  ])],\n");
    o.push_str("  bastions: [Bastion(name: \"bastion\", vnet: \"hub\", public_ip: \"b-pip\")],\n  nsgs: [\n");
    for k in 0..subnets {
        let _ = writeln!(
            o,
            "    Nsg(name: \"nsg{k}\", rules: [Rule(name: \"ssh-admins\", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: \"203.0.{}.0/24\", destination_ports: \"22\"), Rule(name: \"https\", priority: 110, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: \"443\"), Rule(name: \"no-rdp\", priority: 120, direction: Inbound, access: Deny, protocol: Tcp, destination_ports: \"3389\"), Rule(name: \"bastion\", priority: 130, direction: Inbound, access: Allow, protocol: Tcp, source: \"10.200.2.0/26\", destination_ports: \"22,3389\")]),",
            k % 200
        );
    }
    o.push_str("  ],\n  vms: [\n");
    for i in 0..vms {
        let (k, j) = (i / 100, i % 100);
        let (v, s) = (k / 10, k % 10);
        let pip = if i % 2 == 0 { format!(", public_ip: \"p{i}\"") } else { String::new() };
        let _ = writeln!(
            o,
            "    Vm(name: \"vm{i}\", os: Linux, subscription: \"sub\", nics: [Nic(name: \"nic{i}\", subnet: \"v{v}/s{s}\", private_ip: \"10.{v}.{s}.{}\"{pip})]),",
            4 + j
        );
    }
    o.push_str("  ],\n  users: [");
    for u in 0..20 {
        let _ = write!(o, "User(name: \"u{u}\", roles: [\"Owner\"], source_ip: \"198.51.100.{}\"), ", u + 1);
    }
    o.push_str("],\n  jit_policies: [JitPolicy(name: \"all\", scope: Subscription(\"sub\"), enable_at_start: true, ports: [Port(number: 22, protocol: Tcp, max_duration: \"PT3H\"), Port(number: 3389, protocol: Tcp, max_duration: \"PT3H\")])],\n  timeline: [\n");
    for r in 0..40 {
        let _ = writeln!(
            o,
            "    (at: \"{}m\", action: RequestJit(id: \"r{r}\", user: \"u{}\", vm: \"vm{}\", ports: [22], duration: \"{}m\")),",
            5 * r,
            r % 20,
            (r * 997) % vms,
            30 + (r % 4) * 15
        );
    }
    o.push_str("  ],\n)\n");
    o
}
