//! `NSG011-management-exposure-width` (issue 25 item 4): a management port the Internet reaches
//! *wide* at the lint's instant, as `reach::width` defines it, so that a reviewer sees at once
//! which of `NSG004`'s open ports anyone can use: a rule from `*`, `Internet` or `AzureCloud`, or
//! a JIT grant from any source (wide for the grant's duration). A warning.
//!
//! A narrow exposure (an admin range, a JIT grant from one address) gets no finding of its own:
//! `NSG004` (error) or `JIT003` (info) already reports the opening, and a finding per admin
//! range would bury the wide ones (on the generated 10,000-VM scenario, 5,001 of 5,501). Over
//! time (JIT windows opening and closing) both labels are on every window of `nsgsim exposure`.

use crate::model::Topology;
use crate::net::{AddrSet, PortSet};
use crate::reach::{Width, width_of};

use super::chain::Decider;
use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, Severity};
use super::space::describe_addrs;

/// The finding of TCP `ports` of `vm` (NIC `nic`) reached from `sources`, a part of `internet`,
/// opened by the user rules `user` (JIT's own allow rules when `jit_grant`), when the exposure is
/// wide; `None` when it is narrow.
#[expect(
    clippy::too_many_arguments,
    reason = "the facts management_exposure has already computed, passed as they are"
)]
pub fn width_finding(
    topology: &Topology,
    vm: &str,
    nic: &str,
    ports: &PortSet,
    sources: &AddrSet,
    internet: &AddrSet,
    user: &[&Decider],
    jit_grant: bool,
) -> Option<Finding> {
    let label = width_of(sources, internet, topology);
    if label.width == Width::Narrow {
        return None;
    }
    let by = if jit_grant { "an active JIT grant" } else { "the NSG rules" };
    let rules: Vec<FindingRule> = user.iter().map(|d| FindingRule::own(d.rule.clone())).collect();
    let fix = if jit_grant {
        "have JIT requests name the requester's address instead of any source (the policy's allowed source addresses), so each grant opens a narrow window"
    } else {
        "narrow the source to your admin ranges, or close the port and use just-in-time VM access or Azure Bastion"
    };
    let window = if jit_grant { ", for the grant's duration" } else { "" };
    Some(Finding {
        severity: Severity::Warning,
        code: FindingCode::ManagementExposureWidth,
        nsg: user.first().and_then(|d| d.nsg.clone()),
        vm: Some(vm.to_string()),
        rules,
        message: format!(
            "VM '{vm}' (NIC '{nic}'): TCP {ports} is exposed {} to the Internet{window} ({}: {}), opened by {by}",
            label.width,
            label.why,
            describe_addrs(sources, 4)
        ),
        fix: fix.into(),
        policies: Vec::new(),
    })
}
