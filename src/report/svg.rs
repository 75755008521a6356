//! Pictures as SVG: the timeline of JIT grants, and a drawing of the topology (from its graph).
//!
//! Both are plain SVG text with no scripts and no external resources, so they can be embedded in
//! a self-contained HTML page or saved on their own.

use std::fmt::Write;

use std::collections::HashMap;

use petgraph::graph::NodeIndex;

use crate::jit::{GrantState, JitEngine, RequestState};
use crate::model::{GraphEdge, GraphNode, Topology, TopologyGraph};
use crate::sim::{Duration, Instant};

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn tick_step(span: i64) -> i64 {
    [60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
        .into_iter()
        .find(|s| span / s <= 12)
        .unwrap_or(86400)
}

/// The timeline of every JIT grant: one row per VM and port, one bar per grant from its start
/// to its end (expired, revoked, superseded, or still active at `end`), and a cross for every
/// request that ended without a grant (refused by a check, denied by an approver, or cancelled).
/// `start..end` is the period drawn.
pub fn timeline_svg(jit: &JitEngine, topology: &Topology, start: Instant, end: Instant) -> String {
    let mut rows: Vec<(String, u16)> =
        jit.grants().iter().map(|g| (topology.vm(g.vm).name.clone(), g.port)).collect();
    for r in jit.requests() {
        for p in &r.ports {
            rows.push((topology.vm(p.vm).name.clone(), p.number));
        }
    }
    rows.sort();
    rows.dedup();
    let span = end.since(start).as_secs().max(3600);
    let (left, width, row_h, top) = (170.0, 760.0, 30.0, 40.0);
    let height = top + row_h * rows.len().max(1) as f64 + 60.0;
    let x = |t: Instant| left + width * (t.since(start).as_secs().clamp(0, span) as f64) / span as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
        w = left + width + 20.0
    );
    svg.push_str(r#"<style>.grant{stroke:#1b5e20;stroke-width:1}.Active{fill:#43a047}.Expired{fill:#81c784}.Revoked{fill:#ffb74d}.Superseded{fill:#b0bec5}.refused{stroke:#c62828;stroke-width:2}.axis{stroke:#999}.label{fill:#222}.tick{fill:#555;font-size:10px}</style>"#);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="16" class="label" font-weight="bold">JIT access over time (from {start})</text>"#
    );
    // Axis and ticks.
    let step = tick_step(span);
    let mut t = 0;
    while t <= span {
        let px = left + width * t as f64 / span as f64;
        let _ = write!(
            svg,
            r#"<line class="axis" x1="{px}" y1="{top}" x2="{px}" y2="{}" stroke-dasharray="2,3"/>"#,
            height - 40.0
        );
        let _ = write!(
            svg,
            r#"<text class="tick" x="{px}" y="{}" text-anchor="middle">+{}</text>"#,
            height - 26.0,
            Duration::from_secs(t)
        );
        t += step;
    }
    if rows.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{left}" y="{}" class="label">no JIT requests in this scenario</text>"#,
            top + 20.0
        );
    }
    for (i, (vm, port)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = write!(
            svg,
            r#"<text class="label" x="{}" y="{}" text-anchor="end">{} : {port}</text>"#,
            left - 8.0,
            y + 19.0,
            escape(vm)
        );
        for g in jit.grants().iter().filter(|g| &topology.vm(g.vm).name == vm && g.port == *port) {
            let ended = match &g.state {
                GrantState::Active => end.min(g.expires_at),
                _ => jit.grant_ended_at(g.id).unwrap_or(g.expires_at),
            };
            let state = match &g.state {
                GrantState::Active => "Active",
                GrantState::Expired => "Expired",
                GrantState::Revoked { .. } => "Revoked",
                GrantState::Superseded { .. } => "Superseded",
            };
            let (x0, x1) = (x(g.granted_at), x(ended));
            let title = format!(
                "{} from {} on {vm}:{port}, {} to {} ({})",
                g.requester, g.source, g.granted_at, ended, g.state
            );
            let _ = write!(
                svg,
                r#"<rect class="grant {state}" data-requester="{req}" x="{x0:.1}" y="{y0}" width="{w:.1}" height="{h}" rx="3"><title>{title}</title></rect>"#,
                req = escape(&g.requester),
                y0 = y + 6.0,
                w = (x1 - x0).max(2.0),
                h = row_h - 12.0,
                title = escape(&title)
            );
            if x1 - x0 > 60.0 {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{}" fill="#fff" font-size="11">{}</text>"##,
                    x0 + 4.0,
                    y + 19.0,
                    escape(&g.requester)
                );
            }
        }
        for r in jit.requests() {
            // Every request that ended without a grant gets a cross: refused by a check, denied
            // by an approver, or cancelled while it waited.
            let outcome = match &r.state {
                RequestState::Refused(reason) => format!("refused: {reason}"),
                RequestState::Denied { by, reason } => format!("denied by {by}: {reason}"),
                RequestState::Cancelled(reason) => format!("cancelled: {reason}"),
                RequestState::Pending | RequestState::Granted => continue,
            };
            if !r.ports.iter().any(|p| &topology.vm(p.vm).name == vm && p.number == *port) {
                continue;
            }
            let (cx, cy) = (x(r.requested_at), y + row_h / 2.0);
            let _ = write!(
                svg,
                r#"<g class="refused"><title>{}</title><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g>"#,
                escape(&format!("{} at {}: {outcome}", r.requester, r.requested_at)),
                cx - 5.0,
                cy - 5.0,
                cx + 5.0,
                cy + 5.0,
                cx - 5.0,
                cy + 5.0,
                cx + 5.0,
                cy - 5.0
            );
        }
    }
    let ly = height - 12.0;
    for (i, (class, label)) in
        [("Active", "active"), ("Expired", "expired"), ("Revoked", "revoked"), ("Superseded", "superseded")]
            .iter()
            .enumerate()
    {
        let lx = left + 110.0 * i as f64;
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{lx}" y="{}" width="14" height="10"/><text class="tick" x="{}" y="{ly}">{label}</text>"#,
            ly - 9.0,
            lx + 18.0
        );
    }
    let _ = write!(
        svg,
        r##"<text class="tick" x="{}" y="{ly}" fill="#c62828">✕ request refused, denied or cancelled</text>"##,
        left + 450.0
    );
    svg.push_str("</svg>");
    svg
}

/// A drawing of the topology, walked off the topology graph (`model::TopologyGraph`): the
/// Internet on top; one column per VNet with its subnets (NSG, route table, private subnets
/// marked) and what they contain (VMs with their NIC NSGs, Azure Firewall, Azure Bastion); every
/// public IP beside its owner with a dashed line to the Internet; peerings and gateway transit
/// between VNet headers; on-premises networks behind gateways; and every user-defined route to the
/// firewall as a red arrow from the subnet to the firewall.
pub fn topology_svg(topology: &Topology) -> String {
    let graph = TopologyGraph::new(topology);
    let g = graph.graph();
    let vnets = graph.vnet_nodes();
    // Every column is as wide as the longest line any column holds, so that a long VM or NIC
    // name stays inside its box.
    let (col_w, gap, top) = (column_width(&graph, vnets), 50.0, 120.0);
    let total_w = 40.0 + vnets.len().max(1) as f64 * (col_w + gap);
    let internet = (total_w / 2.0, 34.0);
    let mut boxes = String::new();
    let mut texts = String::new();
    let mut header_x: HashMap<NodeIndex, f64> = HashMap::new();
    // Where edges attach: a subnet's box (left x, top y, right x) and a part's row (its subnet
    // box's left and right x, and the row's y).
    let mut subnet_at: HashMap<NodeIndex, (f64, f64, f64)> = HashMap::new();
    let mut row_at: HashMap<NodeIndex, (f64, f64, f64)> = HashMap::new();
    let mut public_lines = Vec::new();
    let mut max_y: f64 = top;
    let line = |out: &mut String, x: f64, y: f64, class: &str, text: &str| {
        let _ = write!(out, r#"<text x="{x}" y="{y}" class="{class}">{}</text>"#, escape(text));
    };
    for (ci, &v) in vnets.iter().enumerate() {
        let x0 = 20.0 + ci as f64 * (col_w + gap);
        header_x.insert(v, x0 + col_w / 2.0);
        let GraphNode::Vnet { name, spaces } = &g[v] else { continue };
        let mut y = top;
        // The column's subnet boxes and public IP pills, painted over the VNet's box.
        let mut col = String::new();
        line(&mut texts, x0 + 10.0, y + 18.0, "title", &format!("VNet {name}"));
        line(&mut texts, x0 + 10.0, y + 32.0, "small", spaces);
        y += 32.0;
        for on_prem in graph.neighbours(v, &GraphEdge::Gateway) {
            if let GraphNode::OnPremises { space } = &g[on_prem] {
                y += 14.0;
                line(&mut texts, x0 + 10.0, y, "gateway", &format!("gateway ⇄ on-premises {space}"));
            }
        }
        for hub in graph.neighbours(v, &GraphEdge::GatewayTransit) {
            let uses = graph.neighbours(v, &GraphEdge::Gateway).is_empty();
            if let (true, GraphNode::Vnet { name: hub_name, .. }) = (uses, &g[hub]) {
                y += 14.0;
                line(
                    &mut texts,
                    x0 + 10.0,
                    y,
                    "gateway",
                    &format!("uses the gateway of {hub_name} (gateway transit)"),
                );
            }
        }
        // Virtual Network Manager: the VNet's network groups and the admin configurations applied
        // to them; `data-admin` names the configuration, so that a page can mark an admin hop.
        for (group, configuration, text) in admin_lines(&graph, v) {
            y += 14.0;
            let admin_attr =
                configuration.map(|c| format!(r#" data-admin="{}""#, escape(&c))).unwrap_or_default();
            let _ = write!(
                texts,
                r#"<text x="{}" y="{y}" class="admin" data-group="{}"{admin_attr}>{}</text>"#,
                x0 + 10.0,
                escape(&group),
                escape(&text)
            );
        }
        y += 12.0;
        for subnet in graph.parts(v) {
            let GraphNode::Subnet { name, prefix, nsg, route_table, private, nat_gateway } = &g[subnet]
            else {
                continue;
            };
            let short = name.split_once('/').map_or(name.as_str(), |(_, s)| s);
            let parts = graph.parts(subnet);
            let mut tags = Vec::new();
            if let Some(nsg) = nsg {
                tags.push(format!("NSG {nsg}"));
            }
            if let Some(rt) = route_table {
                tags.push(format!("routes {rt}"));
            }
            if *private {
                tags.push("private: no default outbound access".into());
            }
            if let Some(gw) = nat_gateway {
                tags.push(format!("NAT gateway {gw}"));
            }
            // One row per part, plus one per public IP and one for a NIC's own NSG.
            let rows: f64 = parts
                .iter()
                .map(|p| {
                    let nsg_row = matches!(&g[*p], GraphNode::Nic { nsg: Some(_), .. });
                    1.0 + graph.public_ips(*p).len() as f64 + if nsg_row { 1.0 } else { 0.0 }
                })
                .sum();
            let tag_h = if tags.is_empty() { 0.0 } else { 14.0 };
            let h = 28.0 + tag_h + 16.0 * rows;
            let (sx, sw) = (x0 + 10.0, col_w - 20.0);
            let _ = write!(
                col,
                r#"<rect class="subnet" data-subnet="{}" x="{sx}" y="{y}" width="{sw}" height="{h}" rx="4"/>"#,
                escape(name)
            );
            subnet_at.insert(subnet, (sx, y, sx + sw));
            line(&mut texts, sx + 8.0, y + 16.0, "title", &format!("{short} {prefix}"));
            if !tags.is_empty() {
                // The subnet's NSG is named on this line; the live classroom marks it on a flow's path.
                let nsg_attr =
                    nsg.as_ref().map(|n| format!(r#" data-nsg="{}""#, escape(n))).unwrap_or_default();
                let _ = write!(
                    texts,
                    r#"<text x="{}" y="{}" class="small"{nsg_attr}>{}</text>"#,
                    sx + 8.0,
                    y + 30.0,
                    escape(&tags.join(" · "))
                );
            }
            let mut ry = y + 30.0 + tag_h;
            for part in parts {
                // `data-name` names the VM or appliance, so that a page can mark a flow's path.
                let (text, class, named) = match &g[part] {
                    GraphNode::Nic { vm, ip, .. } => (format!("{vm}  {ip}"), "vm", vm),
                    GraphNode::Firewall { name, ip } => {
                        (format!("Azure Firewall {name}  {ip}"), "appliance", name)
                    }
                    GraphNode::Bastion { name } => (format!("Azure Bastion {name}"), "appliance", name),
                    GraphNode::LoadBalancer { name, sku, frontends } => {
                        (format!("Azure Load Balancer {name} ({sku})  {frontends}"), "appliance", name)
                    }
                    _ => continue,
                };
                let _ = write!(
                    texts,
                    r#"<text x="{}" y="{}" class="{class}" data-name="{}">{}</text>"#,
                    sx + 12.0,
                    ry + 4.0,
                    escape(named),
                    escape(&text)
                );
                row_at.insert(part, (sx, sx + sw, ry));
                for pip in graph.public_ips(part) {
                    if let GraphNode::PublicIp { name, address, sku } = &g[pip] {
                        ry += 16.0;
                        let label = format!("⇄ public IP {name} {address}");
                        let (px, pw) = (sx + 22.0, 12.0 + 5.6 * label.chars().count() as f64);
                        let _ = write!(
                            col,
                            r#"<rect class="pip" data-name="{}" x="{px}" y="{}" width="{pw:.0}" height="14" rx="7"><title>{}</title></rect>"#,
                            escape(name),
                            ry - 7.0,
                            escape(&format!("public IP {name} {address} ({sku} SKU)"))
                        );
                        line(&mut texts, px + 6.0, ry + 3.5, "pip-text", &label);
                        public_lines.push((px + pw, ry));
                    }
                }
                if let GraphNode::Nic { nsg: Some(nsg), .. } = &g[part] {
                    ry += 16.0;
                    let _ = write!(
                        texts,
                        r#"<text x="{}" y="{}" class="nsg" data-nsg="{}">{}</text>"#,
                        sx + 24.0,
                        ry + 4.0,
                        escape(nsg),
                        escape(&format!("NIC NSG {nsg}"))
                    );
                }
                ry += 16.0;
            }
            y += h + 10.0;
        }
        let _ = write!(
            boxes,
            r#"<rect class="vnet" x="{x0}" y="{top}" width="{col_w}" height="{}" rx="6"/>"#,
            y - top
        );
        boxes.push_str(&col);
        max_y = max_y.max(y);
    }
    let mut edges = String::new();
    // Peerings and gateway transit: arcs between VNet headers.
    for (kind, lift) in [(GraphEdge::Peering, 45.0), (GraphEdge::GatewayTransit, 25.0)] {
        for (a, b) in graph.vnet_links(&kind) {
            let (Some(&xa), Some(&xb)) = (header_x.get(&a), header_x.get(&b)) else { continue };
            let (class, label) = match kind {
                GraphEdge::Peering => match graph.peering_label(a, b) {
                    (label, true) => ("peering", label),
                    (label, false) => ("peering blocked", label),
                },
                _ => ("transit", "gateway transit".to_string()),
            };
            let _ = write!(
                edges,
                r#"<path class="{class}" d="M{xa},{top} C{xa},{c} {xb},{c} {xb},{top}"/><text x="{}" y="{}" class="small" text-anchor="middle">{}</text>"#,
                (xa + xb) / 2.0,
                top - lift + 10.0,
                escape(&label),
                c = top - lift
            );
        }
    }
    for (x, y) in &public_lines {
        let _ = write!(
            edges,
            r#"<line class="public" x1="{x}" y1="{y}" x2="{}" y2="{}"/>"#,
            internet.0,
            internet.1 + 14.0
        );
    }
    for (subnet, firewall, label) in graph.routes() {
        let (Some(&(sx, sy, sr)), Some(&(fl, fr, fy))) = (subnet_at.get(&subnet), row_at.get(&firewall))
        else {
            continue;
        };
        // From the subnet's side that faces the firewall to the side of the firewall's subnet box
        // that faces the subnet, at the firewall's row.
        let y1 = sy + 12.0;
        let (x1, x2, c1, c2) = if (sx - fl).abs() < 1.0 {
            // Same column: leave and enter on the left, bulging into the margin.
            (sx - 2.0, fl - 2.0, sx - 28.0, fl - 28.0)
        } else if sx > fl {
            let mid = (sx + fr) / 2.0;
            (sx, fr + 2.0, mid, mid)
        } else {
            let mid = (sr + fl) / 2.0;
            (sr, fl - 2.0, mid, mid)
        };
        let y2 = fy;
        let _ = write!(
            edges,
            r#"<path class="route" d="M{x1},{y1} C{c1},{y1} {c2},{y2} {x2},{y2}" marker-end="url(#arrow)"><title>{}</title></path>"#,
            escape(&format!("UDR {label}"))
        );
    }
    // A load balancer to each backend member, on the left margin: the rules that send to it.
    for (lb, nic, label) in graph.backends() {
        let (Some(&(ll, _, ly)), Some(&(nl, _, ny))) = (row_at.get(&lb), row_at.get(&nic)) else {
            continue;
        };
        let _ = write!(
            edges,
            r#"<path class="backend" d="M{x1},{ly} C{c1},{ly} {c2},{ny} {x2},{ny}" marker-end="url(#arrow)"><title>{}</title></path>"#,
            escape(&format!("load balancer: {label}")),
            x1 = ll + 8.0,
            x2 = nl + 8.0,
            c1 = ll - 18.0,
            c2 = nl - 18.0,
        );
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="topology" width="{total_w}" height="{h}" viewBox="0 0 {total_w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
        h = max_y + 40.0
    );
    svg.push_str(r##"<style>.vnet{fill:#e3f2fd;stroke:#1565c0}.subnet{fill:#fff;stroke:#90caf9}.title{font-weight:bold}.small{fill:#555;font-size:10px}.gateway{fill:#2e7d32;font-size:10px}.admin{fill:#4a148c;font-size:10px}.vm{fill:#111}.nsg{fill:#6a1b9a;font-size:10px}.appliance{fill:#bf360c;font-weight:bold}.peering{stroke:#1565c0;stroke-width:2;fill:none}.blocked{stroke:#c62828;stroke-dasharray:6,4}.transit{stroke:#2e7d32;stroke-width:1.5;stroke-dasharray:2,3;fill:none}.pip{fill:#fff8e1;stroke:#f9a825}.pip-text{fill:#6d4c00;font-size:10px}.public{stroke:#f9a825;stroke-dasharray:4,3}.route{stroke:#c62828;stroke-width:1.5;fill:none;opacity:.85}.internet{fill:#fffde7;stroke:#f9a825}.backend{stroke:#1565c0;stroke-width:1.2;fill:none;opacity:.8}</style>"##);
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>"##);
    let _ = write!(
        svg,
        r#"<rect class="internet" x="{}" y="{}" width="160" height="28" rx="14"/><text x="{}" y="{}" font-weight="bold" text-anchor="middle">Internet</text>"#,
        internet.0 - 80.0,
        internet.1 - 14.0,
        internet.0,
        internet.1 + 4.0
    );
    svg.push_str(&boxes);
    svg.push_str(&edges);
    svg.push_str(&texts);
    // The legend explains only what the drawing shows.
    let ly = max_y + 24.0;
    let mut lx = 20.0;
    if !graph.routes().is_empty() {
        let _ = write!(
            svg,
            r##"<line class="route legend" x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" marker-end="url(#arrow)"/><text class="small" x="{}" y="{}">user-defined route to the firewall</text>"##,
            lx + 30.0,
            lx + 36.0,
            ly + 3.0
        );
        lx += 220.0;
    }
    if !public_lines.is_empty() {
        let _ = write!(
            svg,
            r##"<line class="public legend" x1="{lx}" y1="{ly}" x2="{}" y2="{ly}"/><text class="small" x="{}" y="{}">public IP to the Internet</text>"##,
            lx + 30.0,
            lx + 36.0,
            ly + 3.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The header lines of VNet `v`'s Virtual Network Manager part: per network group it is a member
/// of, one line per admin configuration applied to the group (or one saying none is), each as
/// (group, configuration, text).
fn admin_lines(graph: &TopologyGraph, v: NodeIndex) -> Vec<(String, Option<String>, String)> {
    let g = graph.graph();
    let mut out = Vec::new();
    for group in graph.neighbours(v, &GraphEdge::Member) {
        let GraphNode::NetworkGroup { name, configurations } = &g[group] else { continue };
        let labels = g[group].admin_labels().unwrap_or_default();
        if labels.is_empty() {
            out.push((name.clone(), None, format!("AVNM network group {name}: no admin configuration")));
        }
        for ((configuration, _), label) in configurations.iter().zip(labels) {
            out.push((
                name.clone(),
                Some(configuration.clone()),
                format!("AVNM network group {name}: {label}"),
            ));
        }
    }
    out
}

/// The approximate width of `text` in the drawing's font: 12 px Helvetica averages about 7 px a
/// character (bold a little more), the 10 px labels about 6.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// The width of a VNet column: the widest line any column holds, with its indent and margins,
/// and at least 300 px.
fn column_width(graph: &TopologyGraph, vnets: &[NodeIndex]) -> f64 {
    let g = graph.graph();
    let mut widest: f64 = 300.0;
    let mut fit =
        |indent: f64, text: &str, size: f64| widest = widest.max(indent + text_width(text, size) + 20.0);
    for &v in vnets {
        if let GraphNode::Vnet { name, spaces } = &g[v] {
            fit(10.0, &format!("VNet {name}"), 13.0);
            fit(10.0, spaces, 10.0);
        }
        for (_, _, text) in admin_lines(graph, v) {
            fit(10.0, &text, 10.0);
        }
        for subnet in graph.parts(v) {
            let GraphNode::Subnet { name, prefix, nsg, route_table, private, nat_gateway } = &g[subnet]
            else {
                continue;
            };
            let short = name.split_once('/').map_or(name.as_str(), |(_, s)| s);
            fit(18.0, &format!("{short} {prefix}"), 13.0);
            let tags: Vec<String> = [
                nsg.as_ref().map(|n| format!("NSG {n}")),
                route_table.as_ref().map(|r| format!("routes {r}")),
                private.then(|| "private: no default outbound access".to_string()),
                nat_gateway.as_ref().map(|gw| format!("NAT gateway {gw}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            fit(18.0, &tags.join(" · "), 10.0);
            for part in graph.parts(subnet) {
                match &g[part] {
                    GraphNode::Nic { vm, ip, nsg, .. } => {
                        fit(22.0, &format!("{vm}  {ip}"), 12.0);
                        if let Some(nsg) = nsg {
                            fit(34.0, &format!("NIC NSG {nsg}"), 10.0);
                        }
                    }
                    GraphNode::Firewall { name, ip } => {
                        fit(22.0, &format!("Azure Firewall {name}  {ip}"), 13.0)
                    }
                    GraphNode::Bastion { name } => fit(22.0, &format!("Azure Bastion {name}"), 13.0),
                    GraphNode::LoadBalancer { name, sku, frontends } => {
                        fit(22.0, &format!("Azure Load Balancer {name} ({sku})  {frontends}"), 13.0)
                    }
                    _ => {}
                }
                for pip in graph.public_ips(part) {
                    if let GraphNode::PublicIp { name, address, .. } = &g[pip] {
                        fit(38.0, &format!("⇄ public IP {name} {address}"), 10.0);
                    }
                }
            }
        }
    }
    widest.ceil()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Firewall, FirewallMode, NextHop, Os, PublicIpSku, Route, RouteTable, SubnetId};

    fn hub_and_spoke() -> Topology {
        let ip = |x: &str| x.parse::<std::net::IpAddr>().expect("ip");
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        t.add_subnet(hub, "AzureFirewallSubnet", "10.0.1.0/26".parse().expect("net")).expect("subnet");
        t.add_subnet(hub, "AzureBastionSubnet", "10.0.2.0/26".parse().expect("net")).expect("subnet");
        let work = t.add_subnet(spoke, "work", "10.1.1.0/24".parse().expect("net")).expect("subnet");
        let fw_pip = t.add_public_ip("fw-pip", ip("20.30.0.10"), PublicIpSku::Standard).expect("pip");
        let b_pip = t.add_public_ip("bastion-pip", ip("20.30.0.20"), PublicIpSku::Standard).expect("pip");
        t.add_firewall(
            Firewall {
                name: "hub-fw".into(),
                subnet: SubnetId(0),
                private_ip: ip("10.0.1.4"),
                public_ip: Some(fw_pip),
                mode: FirewallMode::Classic,
                groups: vec![],
                legacy_dnat: false,
                private_ranges: crate::model::SnatPrivateRanges::default(),
            },
            hub,
        )
        .expect("firewall");
        t.add_bastion("hub-bastion", hub, Some(b_pip)).expect("bastion");
        let rt = t
            .add_route_table(RouteTable {
                name: "via-fw".into(),
                routes: vec![Route {
                    name: "default".into(),
                    prefix: "0.0.0.0/0".parse().expect("net"),
                    next_hop: NextHop::VirtualAppliance(ip("10.0.1.4")),
                }],
            })
            .expect("table");
        t.set_subnet_route_table(work, rt).expect("associate");
        let vm = t.add_vm("app", Os::Linux, false, ("s", "rg")).expect("vm");
        t.add_nic("app-nic", work, ip("10.1.1.4"), Some(vm)).expect("nic");
        t
    }

    #[test]
    fn topology_drawing_shows_routes_public_ips_internet_and_appliances() {
        let svg = topology_svg(&hub_and_spoke());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">Internet</text>"));
        assert!(svg.contains("Azure Firewall hub-fw  10.0.1.4") && svg.contains("Azure Bastion hub-bastion"));
        assert!(
            svg.contains("⇄ public IP fw-pip 20.30.0.10")
                && svg.contains("⇄ public IP bastion-pip 20.30.0.20"),
            "firewall and Bastion public IPs"
        );
        assert_eq!(svg.matches(r#"<line class="public""#).count(), 2, "each public IP faces the Internet");
        assert!(svg.contains("<title>UDR via-fw/default 0.0.0.0/0</title>"), "the route to the firewall");
        assert!(svg.contains(">peering</text>"));
        assert!(svg.contains("routes via-fw"));
        assert!(!svg.contains(r#"class="small"></text>"#), "no empty label for a subnet without an NSG");
    }

    /// The legend explains only what the drawing shows, and a long VM name widens the columns
    /// so that it stays inside its subnet's box.
    #[test]
    fn the_legend_names_what_is_drawn_and_long_names_fit_their_box() {
        let svg = topology_svg(&hub_and_spoke());
        assert!(
            svg.contains("user-defined route to the firewall") && svg.contains("public IP to the Internet")
        );
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let s = t.add_subnet(v, "s", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        let long = "vm-adatum-weu-prod-reporting-analytics-backend-001";
        let vm = t.add_vm(long, Os::Linux, false, ("sub", "rg")).expect("vm");
        t.add_nic("nic", s, "10.0.1.4".parse().expect("ip"), Some(vm)).expect("nic");
        let svg = topology_svg(&t);
        assert!(!svg.contains("user-defined route to the firewall"), "no firewall, no route legend");
        assert!(!svg.contains("public IP to the Internet"), "no public IP, no public IP legend");
        let attr = |name: &str, from: &str| -> f64 {
            let tail = &from[from.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2..];
            tail[..tail.find('"').expect("closing quote")].parse().expect("a number")
        };
        let subnet = &svg[svg.find(r#"<rect class="subnet""#).expect("a subnet box")..];
        let (x, width) = (attr("x", subnet), attr("width", subnet));
        let row = svg.find(&format!(">{long}  10.0.1.4<")).expect("the VM's row");
        let row_x = attr("x", &svg[svg[..row].rfind("<text").expect("its text element")..]);
        // 12 px text averages under 7 px a character: the row ends inside the box.
        let row_end = row_x + 7.0 * format!("{long}  10.0.1.4").chars().count() as f64;
        assert!(row_end <= x + width, "row ends at {row_end}, box at {}", x + width);
    }

    /// A peering side without virtual network access is named on the arc, and under option
    /// `peering_access_blocks_all_traffic` the arc is drawn as blocked.
    #[test]
    fn topology_drawing_labels_a_peering_without_access() {
        let mut t = hub_and_spoke();
        let (Some(hub), Some(spoke)) = (t.vnet_by_name("hub"), t.vnet_by_name("spoke")) else {
            panic!("the fixture has VNets 'hub' and 'spoke'")
        };
        t.set_peering_access(spoke, hub, false).expect("peered");
        let svg = topology_svg(&t);
        assert!(
            svg.contains(">peering (allowVirtualNetworkAccess false on spoke&#39;s side)</text>"),
            "{svg}"
        );
        assert!(svg.contains(r#"<path class="peering" "#), "still carries traffic");
        t.set_peering_access_blocks_all_traffic(true);
        let svg = topology_svg(&t);
        assert!(
            svg.contains(">peering, no traffic (allowVirtualNetworkAccess false on spoke&#39;s side)</text>")
        );
        assert!(svg.contains(r#"<path class="peering blocked" "#));
    }

    #[test]
    fn topology_drawing_shows_network_groups_and_their_admin_configurations() {
        let text = include_str!("../../scenarios/40-avnm-admin-rules.ron");
        let s = crate::scenario::load_str(text, std::path::Path::new("40.ron")).expect("scenario 40 loads");
        let svg = topology_svg(&s.topology);
        assert!(
            svg.contains(r#"class="admin" data-group="ng-production" data-admin="org-baseline">AVNM network group ng-production: admin rules of &#39;org-baseline&#39; (deployed)</text>"#),
            "{svg}"
        );
        assert!(svg.contains("AVNM network group ng-lab: admin rules of"), "{svg}");
        assert!(svg.contains("lab-lockdown"), "{svg}");
        assert!(svg.contains("(not deployed: no effect)"), "{svg}");
        let dot = TopologyGraph::new(&s.topology).to_dot();
        assert!(
            dot.contains(
                "network group ng-production\\nadmin rules of 'org-baseline' (deployed)\", shape=tab]"
            ),
            "{dot}"
        );
        assert_eq!(dot.matches("[label=\"member\", style=dashed, color=purple]").count(), 2, "{dot}");
    }
}
