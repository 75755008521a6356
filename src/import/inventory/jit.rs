//! Defender for Cloud JIT network access policies: one record per VM and its ports.

use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::source::Src;
use crate::scenario::schema::{JitPortSpec, JitProtocolSpec};

/// A port of a request whose access is still open (`status` `Initiated`): an active grant,
/// with its end.
#[derive(Debug)]
pub struct JitGrantRec {
    /// The policy's name.
    pub policy: String,
    /// The VM, with where the reference is.
    pub vm: (ResourceRef, Src),
    /// The port.
    pub port: u16,
    /// The source it allows: `*`, or prefixes joined with `,`.
    pub source: String,
    /// Who asked.
    pub requestor: String,
    /// `endTimeUtc`, as written.
    pub ends_at: String,
}

/// One VM of a JIT policy.
#[derive(Debug)]
pub struct JitRec {
    /// The policy's name.
    pub policy: String,
    /// The VM, with where the reference is.
    pub vm: (ResourceRef, Src),
    /// Its ports.
    pub ports: Vec<JitPortSpec>,
    /// The resource's index.
    pub res: usize,
}

const JIT: &str = "microsoft.security/locations/jitnetworkaccesspolicies";

impl Inventory {
    pub(super) fn jit_policy(&mut self, res: usize, names: &[String], p: &Object, src: &Src) -> Res<()> {
        self.check_props(JIT, p, &["virtualMachines", "requests"], src);
        let policy = names.last().cloned().unwrap_or_default();
        self.jit_requests(&policy, p, src)?;
        let (vms, vsrc) = self.required_list(p, "virtualMachines", src, "virtual machines", || {
            "a JIT policy needs virtualMachines".into()
        })?;
        for (i, v) in vms.iter().enumerate() {
            let at = vsrc.item(i, v);
            let Some(vobj) = v.as_object() else {
                return Err(self.diag.invalid(&at, &v.shown(), "expected a virtual machine object"));
            };
            self.check_props("jitVirtualMachine", vobj, &["ports"], &at);
            if vobj.contains_key("publicIpAddress") {
                self.diag.warn(
                    &member(vobj, "publicIpAddress", &at).1,
                    "the Azure Firewall mapping of a JIT policy is not imported",
                );
            }
            let vm = self.id(v, &at)?;
            let (ports, psrc) = self
                .required_list(vobj, "ports", &at, "ports", || "a JIT virtual machine needs ports".into())?;
            let mut out = Vec::new();
            for (j, port) in ports.iter().enumerate() {
                let port_at = psrc.item(j, port);
                let Some(pobj) = port.as_object() else {
                    return Err(self.diag.invalid(&port_at, &port.shown(), "expected a port object"));
                };
                out.push(self.jit_port(pobj, &port_at)?);
            }
            self.jit.push(JitRec { policy: policy.clone(), vm, ports: out, res });
        }
        Ok(())
    }

    /// The ports of the policy's `requests` whose access is still open, as grants; the others
    /// (revoked, expired, superseded) are history and change nothing.
    fn jit_requests(&mut self, policy: &str, p: &Object, src: &Src) -> Res<()> {
        let Some((requests, rsrc)) = self.list(p, "requests", src, "requests")? else { return Ok(()) };
        let mut history = 0;
        for (i, request) in requests.iter().enumerate() {
            let at = rsrc.item(i, request);
            let Some(robj) = request.as_object() else {
                return Err(self.diag.invalid(&at, &request.shown(), "expected a request object"));
            };
            self.check_props(
                "jitRequest",
                robj,
                &["virtualMachines", "startTimeUtc", "requestor", "justification"],
                &at,
            );
            let requestor =
                self.string(robj, "requestor", &at)?.unwrap_or_else(|| "(unknown requestor)".into());
            let Some((vms, vsrc)) = self.list(robj, "virtualMachines", &at, "virtual machines")? else {
                continue;
            };
            for (j, v) in vms.iter().enumerate() {
                let vat = vsrc.item(j, v);
                let vm = self.id(v, &vat)?;
                let Some(vobj) = v.as_object() else { continue };
                let Some((ports, psrc)) = self.list(vobj, "ports", &vat, "ports")? else { continue };
                for (k, port) in ports.iter().enumerate() {
                    let pat = psrc.item(k, port);
                    let Some(pobj) = port.as_object() else {
                        return Err(self.diag.invalid(&pat, &port.shown(), "expected a port object"));
                    };
                    let status = self.string(pobj, "status", &pat)?.unwrap_or_default();
                    // The spec's enum is Revoked/Initiated; its own example shows Initiating.
                    if !status.eq_ignore_ascii_case("initiated") && !status.eq_ignore_ascii_case("initiating")
                    {
                        history += 1;
                        continue;
                    }
                    let number_text = self.string(pobj, "number", &pat)?.unwrap_or_default();
                    let number: u16 = number_text.parse().map_err(|_| {
                        self.diag.invalid(
                            &member(pobj, "number", &pat).1,
                            &number_text,
                            "a port number is 0-65535",
                        )
                    })?;
                    let end_at = member(pobj, "endTimeUtc", &pat).1;
                    let ends_at = self.string(pobj, "endTimeUtc", &pat)?.ok_or_else(|| {
                        self.diag.invalid(&end_at, "", "an open request port needs its endTimeUtc")
                    })?;
                    let mut sources: Vec<String> = self
                        .strings(pobj, "allowedSourceAddressPrefixes", &pat)?
                        .into_iter()
                        .map(|(s, _)| s)
                        .collect();
                    if sources.is_empty() {
                        sources.extend(self.string(pobj, "allowedSourceAddressPrefix", &pat)?);
                    }
                    if sources.is_empty() {
                        sources.push("*".into());
                    }
                    self.jit_grants.push(JitGrantRec {
                        policy: policy.to_string(),
                        vm: vm.clone(),
                        port: number,
                        source: sources.join(","),
                        requestor: requestor.clone(),
                        ends_at,
                    });
                }
            }
        }
        if history > 0 {
            self.diag.warn(
                &rsrc,
                format!("{history} request port(s) of JIT policy '{policy}' are no longer open (revoked or expired): history, not imported"),
            );
        }
        Ok(())
    }

    fn jit_port(&mut self, pobj: &Object, at: &Src) -> Res<JitPortSpec> {
        self.check_props(
            "jitPort",
            pobj,
            &[
                "number",
                "protocol",
                "allowedSourceAddressPrefix",
                "allowedSourceAddressPrefixes",
                "maxRequestAccessDuration",
            ],
            at,
        );
        let number_text = self.string(pobj, "number", at)?.unwrap_or_default();
        let number: u16 = number_text.parse().map_err(|_| {
            self.diag.invalid(&member(pobj, "number", at).1, &number_text, "a port number is 0-65535")
        })?;
        let protocol_text = self.string(pobj, "protocol", at)?.unwrap_or_else(|| "*".into());
        let protocol = match protocol_text.to_ascii_uppercase().as_str() {
            "TCP" => JitProtocolSpec::Tcp,
            "UDP" => JitProtocolSpec::Udp,
            "*" | "ANY" => JitProtocolSpec::Any,
            _ => {
                return Err(self.diag.invalid(
                    &member(pobj, "protocol", at).1,
                    &protocol_text,
                    "valid: TCP, UDP, *",
                ));
            }
        };
        let mut sources: Vec<String> =
            self.strings(pobj, "allowedSourceAddressPrefixes", at)?.into_iter().map(|(s, _)| s).collect();
        if sources.is_empty()
            && let Some(one) = self.string(pobj, "allowedSourceAddressPrefix", at)?
        {
            sources.push(one);
        }
        let max_duration = self.string(pobj, "maxRequestAccessDuration", at)?;
        Ok(JitPortSpec {
            number: number.into(),
            protocol: Some(protocol),
            allowed_sources: if sources.is_empty() { None } else { Some(sources) },
            max_duration,
        })
    }
}
