//! Route tables: their user-defined routes (inline in `routes`, or resources of their own),
//! `disableBgpRoutePropagation`, and the subnets `az`/REST output says a table is associated
//! with (`subnets`, read-only in Azure: the association itself is the subnet's `routeTable`).

use std::net::IpAddr;

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object, Unknown, Value, shorten};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::CaveatKindSpec;

/// A route table.
#[derive(Debug)]
pub struct RouteTableRec {
    /// Its name.
    pub name: String,
    /// Its routes, inline ones first.
    pub routes: Vec<RouteRec>,
    /// `disableBgpRoutePropagation`: the subnets do not learn the gateway's routes.
    pub disable_bgp: bool,
    /// The subnets the table lists as associated (`az`/REST output), with where each is.
    pub subnets: Vec<(ResourceRef, Src)>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A user-defined route.
#[derive(Debug)]
pub struct RouteRec {
    /// Its name.
    pub name: String,
    /// `addressPrefix`: a CIDR, or a service tag (which nsgsim does not route by).
    pub prefix: String,
    /// `nextHopType` and, for a virtual appliance, `nextHopIpAddress`.
    pub next_hop: NextHop,
    /// Where the route is.
    pub src: Src,
    /// The resource's index (the table's for an inline route).
    pub res: usize,
}

/// Where a route sends traffic (Azure's `nextHopType`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// `VirtualAppliance`, at this address; `Err` when the address is only known at
    /// deployment (an expression nsgsim cannot evaluate, and why).
    VirtualAppliance(Result<IpAddr, Unknown>),
    /// `Internet`.
    Internet,
    /// `VnetLocal`.
    VnetLocal,
    /// `VirtualNetworkGateway`.
    VirtualNetworkGateway,
    /// `None`: drop.
    Drop,
}

const ROUTE_TABLE: &str = "microsoft.network/routetables";
const ROUTE: &str = "microsoft.network/routetables/routes";

impl Inventory {
    pub(super) fn route_table(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(ROUTE_TABLE, p, &["routes", "disableBgpRoutePropagation", "subnets"], src);
        if !self.define(Kind::RouteTable, names, rsrc, res) {
            return Ok(());
        }
        let what = format!("route table '{}'", names[0]);
        let disable_bgp = self.flag(p, "disableBgpRoutePropagation", src, &what)?.unwrap_or(false);
        let mut routes: Vec<RouteRec> = Vec::new();
        if let Some((list, lsrc)) = self.list(p, "routes", src, "routes")? {
            for (i, r) in list.iter().enumerate() {
                let at = lsrc.item(i, r);
                let Some((rp, rpsrc)) = properties(r, &at) else {
                    return Err(self.diag.invalid(&at, &r.shown(), "expected a route object"));
                };
                let robj = r.as_object().expect("properties() found an object");
                let name_at = member(robj, "name", &at).1;
                let name = self
                    .string(robj, "name", &at)?
                    .ok_or_else(|| self.diag.invalid(&name_at, "", "a route needs a name"))?;
                if let Some(first) = routes.iter().find(|x| x.name.eq_ignore_ascii_case(&name)) {
                    return Err(self.diag.invalid(
                        &name_at,
                        &name,
                        format!(
                            "route name '{name}' is used twice in {what} (first at {}); Azure refuses the route table",
                            self.diag.place(&first.src)
                        ),
                    ));
                }
                if let (Some(Node { value: Value::Unknown(u), .. }), prefix_at) =
                    member(rp, "addressPrefix", &rpsrc)
                {
                    // A destination only a deployment knows (a public IP's address Azure
                    // allocates, `reference(pip).ipAddress`): the route is left out and the gap
                    // recorded, never guessed; `--strict` refuses it.
                    let reason = format!(
                        "route '{name}' of {what} is not imported: its addressPrefix '{}' cannot be made offline: {}",
                        shorten(&u.expression),
                        u.reason
                    );
                    let resource = format!("Microsoft.Network/routeTables/{}/routes/{name}", names[0]);
                    self.gap(CaveatKindSpec::Placeholder, resource, &prefix_at, reason, Vec::new())?;
                    continue;
                }
                routes.push(self.route(name, rp, &rpsrc, res)?);
            }
        }
        let subnets = self.references(p, "subnets", src, "subnets")?;
        self.route_tables.push(RouteTableRec {
            name: names[0].clone(),
            routes,
            disable_bgp,
            subnets,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }

    /// One route named `name`, its properties `p` at `src`.
    pub(super) fn route(&mut self, name: String, p: &Object, src: &Src, res: usize) -> Res<RouteRec> {
        self.check_props(
            ROUTE,
            p,
            &["addressPrefix", "nextHopType", "nextHopIpAddress", "hasBgpOverride"],
            src,
        );
        let prefix_at = member(p, "addressPrefix", src).1;
        let prefix = self.string(p, "addressPrefix", src)?.ok_or_else(|| {
            self.diag.invalid(&prefix_at, "", format!("route '{name}' has no addressPrefix"))
        })?;
        let hop_at = member(p, "nextHopType", src).1;
        let hop = self
            .string(p, "nextHopType", src)?
            .ok_or_else(|| self.diag.invalid(&hop_at, "", format!("route '{name}' has no nextHopType")))?;
        let next_hop = match hop.to_ascii_lowercase().as_str() {
            "virtualappliance" => {
                let (node, ip_at) = member(p, "nextHopIpAddress", src);
                let address = match node.map(|n| &n.value) {
                    Some(Value::Unknown(u)) => Err((**u).clone()),
                    _ => {
                        let text = self.string(p, "nextHopIpAddress", src)?.unwrap_or_default();
                        Ok(text.trim().parse::<IpAddr>().map_err(|_| {
                            self.diag.invalid(
                                &ip_at,
                                &text,
                                format!(
                                    "route '{name}': nextHopType VirtualAppliance needs nextHopIpAddress, the appliance's private IP (e.g. 10.0.1.4)"
                                ),
                            )
                        })?)
                    }
                };
                NextHop::VirtualAppliance(address)
            }
            "internet" => NextHop::Internet,
            "vnetlocal" => NextHop::VnetLocal,
            "virtualnetworkgateway" => NextHop::VirtualNetworkGateway,
            "none" => NextHop::Drop,
            _ => {
                return Err(self.diag.invalid(
                    &hop_at,
                    &hop,
                    "valid: VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, None",
                ));
            }
        };
        Ok(RouteRec { name, prefix, next_hop, src: src.clone(), res })
    }
}
