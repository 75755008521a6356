//! Defender for Cloud JIT network access policies: one record per VM and its ports.

use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::source::Src;
use crate::scenario::schema::{JitPortSpec, JitProtocolSpec};

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
        let (requests, rsrc) = member(p, "requests", src);
        if requests.and_then(Node::as_array).is_some_and(|r| !r.is_empty()) {
            self.diag.warn(
                &rsrc,
                "JIT requests are history and are not imported; replay them as RequestJit steps if needed",
            );
        }
        let policy = names.last().cloned().unwrap_or_default();
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
