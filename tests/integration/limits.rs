//! Issue 19 item 9, end to end: the limits Azure enforces on a VNet ("Azure subscription and
//! service limits, quotas, and constraints", networking limits: "Subnets per virtual network:
//! 3,000") are enforced by `check`, at the position of the first resource past the limit.

use crate::util::{TempDir, nsgsim, position};

/// A scenario with one VNet of `subnets` /29 subnets in 10.0.0.0/8.
fn vnet_of_subnets(subnets: usize) -> String {
    let lines: Vec<String> = (0..subnets)
        .map(|i| {
            let a = 0x0a00_0000u32 + u32::try_from(i).expect("small") * 8;
            let ip = std::net::Ipv4Addr::from(a);
            format!("        Subnet(name: \"s{i}\", prefix: \"{ip}/29\"),")
        })
        .collect();
    format!(
        "Scenario(\n    name: \"limits\",\n    start: \"2025-01-06T09:00:00Z\",\n    vnets: [Vnet(name: \"big\", address_space: [\"10.0.0.0/8\"], subnets: [\n{}\n    ])],\n)\n",
        lines.join("\n")
    )
}

#[test]
fn a_vnet_takes_3000_subnets_and_check_refuses_the_3001st_at_its_place() {
    let dir = TempDir::new("limits");
    let at_limit = dir.write("at-limit.ron", &vnet_of_subnets(3000));
    nsgsim(&["check", &at_limit]).assert_code(0);
    let text = vnet_of_subnets(3001);
    let past = dir.write("past.ron", &text);
    let (line, col) = position(&text, "\"10.0.93.192/29\"", 0);
    nsgsim(&["check", &past]).assert_code(2).stderr_has(&[
        &format!(
            "past.ron:{line}:{col}: vnets[0].subnets[3000].prefix: vnet 'big' cannot take subnet 's3000'"
        ),
        "\"Subnets per virtual network: 3,000\"",
        "valid: at most 3000",
    ]);
}
