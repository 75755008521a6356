//! References whose id is only a stand-in: the id of a resource the input does not declare, given
//! as a parameter with no value, or as the Azure quickstart CI's `GET-PREREQ-…` value.
//!
//! A template that peers with a VNet, or connects a gateway, that another deployment made takes
//! that resource's whole id as a parameter (`"remoteVirtualNetwork": {"id":
//! "[parameters('remoteVirtualNetworkId')]"}`). Given no value, or given the stand-in that the
//! quickstart repository's parameters files hold for a prerequisite deployment's output
//! (`"GET-PREREQ-existingRemoteVirtualNetworkId"`, filled in by its CI from the folder's
//! `prereqs/`), the reference names nothing nsgsim could look up. It then takes the path of any
//! reference to a resource outside the input: the peering or connection is left out with a
//! warning and an `UnresolvedReference` caveat naming the parameter or the stand-in, and
//! `--strict` makes it an error. Nothing is guessed: no id is made up, and the rest of the
//! template imports. This applies to the references whose resource is outside the template by
//! design (a peering's remote VNet, a connection's gateways); elsewhere (a NIC's subnet, an
//! NSG) a missing id stays the positioned error naming the parameter, since the resource it
//! would name decides traffic inside the scenario. Recognising the `GET-PREREQ-` prefix is a
//! **model choice** (it is the quickstart repository's convention, not Azure's: Azure would
//! refuse the value as an invalid resource id).

use super::{Inventory, Res, member};
use crate::import::arm::{ResourceRef, VISIBLE_PLACEHOLDER_PREFIX};
use crate::import::json::Object;
use crate::import::source::Src;
use crate::scenario::schema::CaveatKindSpec;

/// The Azure type of a peering's remote VNet, as a caveat names it.
pub(super) const VNET_TYPE: &str = "Microsoft.Network/virtualNetworks";
/// The Azure type of a connection's `virtualNetworkGateway1`.
pub(super) const GATEWAY_TYPE: &str = "Microsoft.Network/virtualNetworkGateways";
/// The Azure type of a connection's `localNetworkGateway2`.
pub(super) const LOCAL_GATEWAY_TYPE: &str = "Microsoft.Network/localNetworkGateways";

/// The prefix of the quickstart CI's stand-in for a prerequisite deployment's output.
const PREREQ_PREFIX: &str = "GET-PREREQ-";

/// What a reference's id stands in for, when it names no resource.
#[derive(Debug, PartialEq, Eq)]
enum StandIn {
    /// A parameter given no value (`param.NAME` once rendered).
    Parameter(String),
    /// The quickstart CI's `GET-PREREQ-…` value.
    Prereq(String),
}

impl StandIn {
    /// The stand-in of the id text `text`; `None` when it is anything else.
    fn of(text: &str) -> Option<StandIn> {
        if let Some(name) = text.strip_prefix(VISIBLE_PLACEHOLDER_PREFIX)
            && !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
        {
            return Some(StandIn::Parameter(name.to_string()));
        }
        let rest = text.strip_prefix(PREREQ_PREFIX)?;
        (!rest.is_empty() && rest.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c)))
            .then(|| StandIn::Prereq(text.to_string()))
    }

    /// How the caveat names the resource: `param.NAME` or the stand-in as written.
    fn label(&self) -> String {
        match self {
            StandIn::Parameter(name) => format!("{VISIBLE_PLACEHOLDER_PREFIX}{name}"),
            StandIn::Prereq(text) => text.clone(),
        }
    }

    /// Why the reference names nothing.
    fn why(&self) -> String {
        match self {
            StandIn::Parameter(name) => format!(
                "its id is parameter '{name}', which has no value: the id of a resource the input does not declare (pass --parameter {name}=/subscriptions/…/providers/… to name it)"
            ),
            StandIn::Prereq(text) => format!(
                "its id is '{text}', the Azure quickstart CI's stand-in for the output of a prerequisite deployment (model choice: read as a resource the input does not declare), not a resource id"
            ),
        }
    }
}

impl Inventory {
    /// A reference `{"id": …}` at `field` to a resource of type `kind` that is outside the
    /// template by design (see the module docs). When its id is a stand-in, the gap is recorded
    /// (a warning and a caveat naming it; under `--strict` an error) and the answer is `None`,
    /// as for an absent reference; `what` names the resource that is left out (`peering 'p'`).
    /// Any other value is read as [`Inventory::reference`] reads it.
    pub(super) fn reference_outside(
        &mut self,
        m: &Object,
        field: &str,
        src: &Src,
        kind: &str,
        what: &str,
    ) -> Res<Option<(ResourceRef, Src)>> {
        let (node, at) = member(m, field, src);
        let stand_in = node.and_then(|n| n.as_object()).and_then(|obj| {
            let (id, id_at) = member(obj, "id", &at);
            id.and_then(|v| v.as_str()).and_then(StandIn::of).map(|s| (s, id_at))
        });
        let Some((stand_in, id_at)) = stand_in else { return self.reference(m, field, src) };
        let reason = format!("{what}: {field} names no resource: {}; {what} is not imported", stand_in.why());
        let resource = format!("{kind}/{}", stand_in.label());
        self.gap(CaveatKindSpec::UnresolvedReference, resource, &id_at, reason, Vec::new())?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_with_no_value_and_a_prereq_value_are_stand_ins_and_an_id_is_not() {
        assert_eq!(StandIn::of("param.remoteVnetId"), Some(StandIn::Parameter("remoteVnetId".into())));
        assert_eq!(
            StandIn::of("GET-PREREQ-existingGatewayId"),
            Some(StandIn::Prereq("GET-PREREQ-existingGatewayId".into()))
        );
        assert_eq!(
            StandIn::of("/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v"),
            None
        );
        assert_eq!(StandIn::of("GET-PREREQ-"), None);
        assert_eq!(StandIn::of("param."), None);
        assert_eq!(StandIn::of("GET-PREREQ-a/b"), None);
    }
}
