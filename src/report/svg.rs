//! Pictures as SVG: the timeline of JIT grants, and a drawing of the topology.
//!
//! Both are plain SVG text with no scripts and no external resources, so they can be embedded in
//! a self-contained HTML page or saved on their own.

use std::fmt::Write;

use crate::jit::{GrantState, JitEngine, RequestState};
use crate::model::Topology;
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
/// refused request. `start..end` is the period drawn.
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
                g.requester,
                topology.describe_address(&g.source),
                g.granted_at,
                ended,
                g.state
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
            let RequestState::Refused(reason) = &r.state else { continue };
            if !r.ports.iter().any(|p| &topology.vm(p.vm).name == vm && p.number == *port) {
                continue;
            }
            let (cx, cy) = (x(r.requested_at), y + row_h / 2.0);
            let _ = write!(
                svg,
                r#"<g class="refused"><title>{}</title><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g>"#,
                escape(&format!("{} refused at {}: {reason}", r.requester, r.requested_at)),
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
        r##"<text class="tick" x="{}" y="{ly}" fill="#c62828">✕ refused request</text>"##,
        left + 450.0
    );
    svg.push_str("</svg>");
    svg
}

/// A drawing of the topology: one column per VNet with its subnets, NICs and appliances; public
/// IPs, NSGs and route tables labelled; peerings drawn between VNet headers.
pub fn topology_svg(topology: &Topology) -> String {
    let col_w = 280.0;
    let gap = 40.0;
    let mut body = String::new();
    let mut max_y: f64 = 0.0;
    let vnets: Vec<_> = topology.vnet_ids().collect();
    let mut header_x = Vec::new();
    for (ci, &v) in vnets.iter().enumerate() {
        let vnet = topology.vnet(v);
        let x0 = 20.0 + ci as f64 * (col_w + gap);
        header_x.push(x0 + col_w / 2.0);
        let mut y = 80.0;
        let spaces: Vec<String> = vnet.address_space.iter().map(|s| s.to_string()).collect();
        let mut inner = String::new();
        let _ = write!(
            inner,
            r#"<text x="{}" y="{}" font-weight="bold">VNet {}</text><text x="{}" y="{}" class="small">{}</text>"#,
            x0 + 10.0,
            y + 18.0,
            escape(&vnet.name),
            x0 + 10.0,
            y + 32.0,
            escape(&spaces.join(", "))
        );
        if !vnet.on_premises.is_empty() {
            let onp: Vec<String> = vnet.on_premises.iter().map(|s| s.to_string()).collect();
            let _ = write!(
                inner,
                r#"<text x="{}" y="{}" class="small">gateway to on-premises {}</text>"#,
                x0 + 10.0,
                y + 46.0,
                escape(&onp.join(", "))
            );
            y += 14.0;
        }
        y += 44.0;
        for &s in &vnet.subnets {
            let subnet = topology.subnet(s);
            let sy = y;
            let mut lines: Vec<(String, &str)> = Vec::new();
            for &n in &subnet.nics {
                let nic = topology.nic(n);
                let name = nic.vm.map(|vm| topology.vm(vm).name.clone()).unwrap_or_else(|| nic.name.clone());
                let mut text = format!("{name}  {}", nic.private_ip);
                if let Some(p) = nic.public_ip {
                    text.push_str(&format!("  ⇄ {}", topology.public_ip(p).address));
                }
                lines.push((text, "vm"));
                if let Some(nsg) = nic.nsg {
                    lines.push((format!("    NIC NSG {}", topology.nsg(nsg).name), "nsg"));
                }
            }
            for f in topology.firewall_ids().filter(|f| topology.firewall(*f).subnet == s) {
                let fw = topology.firewall(f);
                lines.push((format!("Azure Firewall {}  {}", fw.name, fw.private_ip), "appliance"));
            }
            for b in topology.bastion_ids().filter(|b| topology.bastion(*b).subnet == s) {
                lines.push((format!("Azure Bastion {}", topology.bastion(b).name), "appliance"));
            }
            let h = 40.0 + 16.0 * lines.len() as f64;
            let _ = write!(
                inner,
                r#"<rect class="subnet" x="{}" y="{sy}" width="{}" height="{h}" rx="4"/>"#,
                x0 + 10.0,
                col_w - 20.0
            );
            let _ = write!(
                inner,
                r#"<text x="{}" y="{}" font-weight="bold">{} {}</text>"#,
                x0 + 18.0,
                sy + 16.0,
                escape(&subnet.name),
                subnet.prefix
            );
            let mut tags = Vec::new();
            if let Some(nsg) = subnet.nsg {
                tags.push(format!("NSG {}", topology.nsg(nsg).name));
            }
            if let Some(rt) = subnet.route_table {
                tags.push(format!("routes {}", topology.route_table(rt).name));
            }
            let _ = write!(
                inner,
                r#"<text x="{}" y="{}" class="small">{}</text>"#,
                x0 + 18.0,
                sy + 30.0,
                escape(&tags.join(" · "))
            );
            for (i, (text, class)) in lines.iter().enumerate() {
                let _ = write!(
                    inner,
                    r#"<text x="{}" y="{}" class="{class}">{}</text>"#,
                    x0 + 22.0,
                    sy + 48.0 + 16.0 * i as f64,
                    escape(text)
                );
            }
            y += h + 10.0;
        }
        let _ = write!(
            body,
            r#"<rect class="vnet" x="{x0}" y="80" width="{col_w}" height="{}" rx="6"/>{inner}"#,
            y - 80.0
        );
        max_y = max_y.max(y);
    }
    let total_w = 40.0 + vnets.len().max(1) as f64 * (col_w + gap);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="topology" width="{total_w}" height="{h}" viewBox="0 0 {total_w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
        h = max_y + 20.0
    );
    svg.push_str(r##"<style>.vnet{fill:#e3f2fd;stroke:#1565c0}.subnet{fill:#fff;stroke:#90caf9}.small{fill:#555;font-size:10px}.vm{fill:#111}.nsg{fill:#6a1b9a;font-size:10px}.appliance{fill:#bf360c;font-weight:bold}.peering{stroke:#1565c0;stroke-width:2;fill:none}</style>"##);
    let _ = write!(
        svg,
        r#"<text x="{}" y="24" font-weight="bold" text-anchor="middle">Internet</text>"#,
        total_w / 2.0
    );
    for &v in &vnets {
        for peer in &topology.vnet(v).peerings {
            if v < *peer {
                let (a, b) = (header_x[v.index()], header_x[peer.index()]);
                let _ = write!(
                    svg,
                    r#"<path class="peering" d="M{a},80 C{a},45 {b},45 {b},80"/><text x="{}" y="48" class="small" text-anchor="middle">peering</text>"#,
                    (a + b) / 2.0
                );
            }
        }
    }
    svg.push_str(&body);
    svg.push_str("</svg>");
    svg
}
