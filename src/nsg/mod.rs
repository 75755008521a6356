//! Network security groups as Azure defines them: security rules, default rules, validation,
//! resolution of rules to concrete address/port sets, and first-match evaluation of one NSG.
//!
//! The evaluation contract (Microsoft's "How network security groups filter traffic"):
//! rules are processed in priority order, lower numbers first, and processing stops at the first
//! rule that matches. The six default rules (priorities 65000, 65001, 65500 per direction) come
//! last and `DenyAll*Bound` guarantees that every flow matches something. How subnet-level and
//! NIC-level NSGs chain together is `path`'s job; this module answers for one NSG.
//!
//! Rules name addresses symbolically (service tags, application security groups); those only
//! become address sets in a context (which VNet the NSG is applied in, who is in which ASG), so
//! an NSG is compiled per context by [`CompiledNsg::compile`].

mod compiled;
mod default_rules;
mod resolve;
mod rule;
mod rule_ref;
mod validate;

pub use compiled::{CompiledNsg, RuleHit};
pub use default_rules::default_rules;
pub use resolve::{ResolveContext, resolve_fields, resolve_rule};
pub use rule::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
    ServiceTag, display_net,
};
pub use rule_ref::RuleRef;
pub use validate::{
    MAX_ASGS_PER_FIELD, MAX_ASGS_PER_NSG, MAX_PREFIXES_PER_FIELD, MAX_RULES_PER_NSG, NsgError, validate_nsg,
    validate_rule,
};
