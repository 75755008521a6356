//! Associations Azure records on both sides: a subnet's or NIC's `networkSecurityGroup` and a
//! subnet's `routeTable` are the associations, and `az`/REST output of the NSG or route table
//! lists them again (`networkInterfaces`, `subnets`). An NSG exported alone (`az network nsg
//! show`) still says where it applies, so the lists fill in an association the subnet or NIC in
//! the input does not state (a subnet written by a template that attaches the NSG elsewhere, or
//! exported earlier); when both sides state one and they differ, the subnet's or NIC's own
//! stands, as it is the association itself, and a warning shows both.

use super::parent_ref;
use crate::import::arm::ResourceRef;
use crate::import::inventory::Inventory;
use crate::import::resource::Kind;
use crate::import::source::Src;

/// Which association a list states.
#[derive(Clone, Copy)]
enum Association {
    /// A subnet's NSG.
    SubnetNsg,
    /// A NIC's NSG.
    NicNsg,
    /// A subnet's route table.
    SubnetRouteTable,
}

impl Inventory {
    /// Fills in the associations the NSGs' and route tables' own lists state.
    pub(super) fn nsg_associations(&mut self) {
        let mut stated: Vec<(Association, ResourceRef, ResourceRef, Src)> = Vec::new();
        for n in &self.nsgs {
            let me = parent_ref(Kind::Nsg, std::slice::from_ref(&n.name));
            stated.extend(
                n.subnets.iter().map(|(r, src)| (Association::SubnetNsg, r.clone(), me.clone(), src.clone())),
            );
            stated.extend(
                n.nics.iter().map(|(r, src)| (Association::NicNsg, r.clone(), me.clone(), src.clone())),
            );
        }
        for t in &self.route_tables {
            let me = parent_ref(Kind::RouteTable, std::slice::from_ref(&t.name));
            stated.extend(
                t.subnets
                    .iter()
                    .map(|(r, src)| (Association::SubnetRouteTable, r.clone(), me.clone(), src.clone())),
            );
        }
        for (association, target, owner, src) in stated {
            let slot = match association {
                Association::SubnetNsg | Association::SubnetRouteTable => {
                    let [vnet, subnet] = target.names.as_slice() else { continue };
                    let Some(s) = self
                        .vnets
                        .iter_mut()
                        .filter(|v| v.name.eq_ignore_ascii_case(vnet))
                        .flat_map(|v| v.subnets.iter_mut())
                        .find(|s| s.name.eq_ignore_ascii_case(subnet))
                    else {
                        // The subnet is not in the input: the association concerns nothing here.
                        continue;
                    };
                    if matches!(association, Association::SubnetNsg) {
                        &mut s.nsg
                    } else {
                        &mut s.route_table
                    }
                }
                Association::NicNsg => {
                    // By the name the NIC has in the scenario (see `inventory::endpoint_names`).
                    let Some(named) = self.defined.get(&target.key()).cloned() else { continue };
                    let Some(n) = self.nics.iter_mut().find(|n| n.name == named) else {
                        continue;
                    };
                    &mut n.nsg
                }
            };
            match slot {
                None => *slot = Some((owner, src)),
                Some((own, own_src)) if own.key() != owner.key() => {
                    let (own_name, own_at) = (own.name().to_string(), own_src.clone());
                    let what = match association {
                        Association::SubnetNsg => "subnet",
                        Association::NicNsg => "network interface",
                        Association::SubnetRouteTable => "subnet",
                    };
                    let message = format!(
                        "{} '{}' lists {what} '{}', which names '{own_name}' itself ({}); the {what}'s own association stands",
                        Kind::of(&owner.kind).map_or("resource", Kind::label),
                        owner.name(),
                        target.names.join("/"),
                        self.diag.place(&own_at)
                    );
                    self.diag.warn(&src, message);
                }
                Some(_) => {}
            }
        }
    }
}
